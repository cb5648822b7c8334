"""The specification as data: rules, interpretations and their typed policy, the lifecycles,
the rejection codes and their precedence, the max_time grammar, the rule catalogue and the
``transitions`` machines built from the declaration."""
