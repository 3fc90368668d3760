"""Code every app of Accord may import; it imports none of them."""
