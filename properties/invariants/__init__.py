"""Every rule as a named property over traces, and the suite that runs them."""
