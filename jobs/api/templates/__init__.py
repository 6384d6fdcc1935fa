"""Templates and stylesheet of the ops dashboard (plain HTML/CSS, shipped as package data)."""
