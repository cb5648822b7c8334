"""Views of a run for people: diagrams, timelines, and text made safe to print."""
