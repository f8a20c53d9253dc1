"""HTTP edges shared by every route: health, error mapping, input validation."""
