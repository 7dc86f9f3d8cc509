"""Static word lists and reference data bundled with the simulator's generator."""
