"""Demo and benchmark data (seed_demo, generate_data), on top of the three apps."""
