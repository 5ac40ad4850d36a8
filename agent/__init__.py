"""The conversation agent: state, graph, models and the turn runtime."""
