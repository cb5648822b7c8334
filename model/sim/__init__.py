"""The reference simulation: a virtual clock and the scheduler's parts the engine is made of, scenarios,
and the typed operations that drive an implementation."""
