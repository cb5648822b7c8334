"""Test support: machinery the tests run beside the engine, not part of the spec or the kit."""
