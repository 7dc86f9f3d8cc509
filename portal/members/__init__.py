"""The member replica (members, org units, positions), my page and the directory."""
