"""``sessionspec serve``: the real qiskit-ibm-runtime client runs against the reference engine.

:mod:`.state` answers every request the clients make (framework-free), :mod:`.app` is its HTTP
face (Starlette, the ``serve`` extra), :mod:`.clock` maps the client's wall clock onto virtual
time, :mod:`.backends` serves device data, :mod:`.programs` computes results (real with the
``serve-qiskit`` extra) and :mod:`.account` writes the clients' saved accounts. docs/serve.md
is the user's guide.
"""
