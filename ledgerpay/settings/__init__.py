"""Settings: `base` holds everything, read from the environment; `test` adjusts it for the test suite."""
