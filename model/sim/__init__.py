"""The simulation: the engine on its virtual clock, scenarios, and the operations that drive them."""
