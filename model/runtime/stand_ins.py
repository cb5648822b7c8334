"""Stand-ins for the few qiskit objects the seed examples touch, so they run without qiskit.

``random_circuit``, ``SparsePauliOp`` and IPython's ``display`` are replaced by small,
deterministic objects with the attributes the seeds use: ``decompose(reps=)``,
``draw(output=)``, ``paulis``. They carry no physics; the spec is about scheduling.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

_ONE_QUBIT = ("h", "x", "y", "z", "s", "t", "rx", "ry", "rz", "u")
_TWO_QUBIT = ("cx", "cz", "swap", "crx")
_PARAMS = {"rx": 1, "ry": 1, "rz": 1, "u": 3, "crx": 1}


@dataclass(frozen=True)
class Gate:
    name: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] = ()

    def label(self) -> str:
        text = self.name.upper()
        if self.params:
            text += "(" + ",".join(f"{p:.2f}" for p in self.params) + ")"
        return text


def _decompose(gate: Gate) -> tuple[Gate, ...]:
    """One level of decomposition towards {h, rz, ry, cx, ...}; basis gates stay as they are."""
    q = gate.qubits
    if gate.name == "swap":
        return (Gate("cx", q), Gate("cx", (q[1], q[0])), Gate("cx", q))
    if gate.name == "cz":
        return (Gate("h", (q[1],)), Gate("cx", q), Gate("h", (q[1],)))
    if gate.name == "crx":
        half = gate.params[0] / 2
        return (
            Gate("rz", (q[1],), (1.5708,)), Gate("ry", (q[1],), (half,)), Gate("cx", q),
            Gate("ry", (q[1],), (-half,)), Gate("cx", q), Gate("rz", (q[1],), (-1.5708,)),
        )
    if gate.name == "u":
        theta, phi, lam = gate.params
        return (Gate("rz", q, (lam,)), Gate("ry", q, (theta,)), Gate("rz", q, (phi,)))
    return (gate,)


class CircuitDrawing(str):
    """A text drawing; ``display`` prints it (there is no matplotlib figure to show)."""

    __slots__ = ()


@dataclass(frozen=True)
class QuantumCircuit:
    """A list of gates on ``num_qubits`` wires: enough to be drawn, decomposed and sent."""

    num_qubits: int
    gates: tuple[Gate, ...]
    name: str = "circuit"

    def decompose(self, reps: int = 1) -> QuantumCircuit:
        gates = self.gates
        for _ in range(reps):
            gates = tuple(part for gate in gates for part in _decompose(gate))
        return QuantumCircuit(self.num_qubits, gates, self.name)

    def size(self) -> int:
        return len(self.gates)

    def draw(self, output: str | None = None) -> CircuitDrawing:
        """One text row per qubit, one column per gate, whatever ``output`` asks for."""
        rows: list[list[str]] = [[] for _ in range(self.num_qubits)]
        for gate in self.gates:
            label = gate.label()
            width = len(label) + (2 if len(gate.qubits) > 1 else 0)
            for wire, row in enumerate(rows):
                if wire in gate.qubits:
                    cell = label if len(gate.qubits) == 1 else f"{label}.{gate.qubits.index(wire)}"
                else:
                    cell = ""
                row.append(cell.center(width, "─"))
        prefix = max(len(f"q_{n}") for n in range(self.num_qubits)) if self.num_qubits else 0
        lines = [f"{f'q_{n}':>{prefix}}: ─" + "─".join(row) + "─" for n, row in enumerate(rows)]
        return CircuitDrawing("\n".join(lines))

    def __str__(self) -> str:
        return str(self.draw())


def random_circuit(num_qubits: int, depth: int, seed: int | None = None) -> QuantumCircuit:
    """A random circuit of ``depth`` layers; ``seed=None`` means seed 0 (the spec is deterministic)."""
    if num_qubits < 1 or depth < 0:
        raise ValueError(f"random_circuit needs num_qubits >= 1 and depth >= 0, got {num_qubits}, {depth}")
    rng = random.Random(0 if seed is None else seed)
    gates: list[Gate] = []
    for _ in range(depth):
        free = list(range(num_qubits))
        rng.shuffle(free)
        while free:
            two = len(free) >= 2 and rng.random() < 0.5
            name = rng.choice(_TWO_QUBIT if two else _ONE_QUBIT)
            qubits = tuple(free.pop() for _ in range(2 if two else 1))
            params = tuple(round(rng.uniform(0, 6.2832), 4) for _ in range(_PARAMS.get(name, 0)))
            gates.append(Gate(name, qubits, params))
    return QuantumCircuit(num_qubits, tuple(gates), f"random_{num_qubits}x{depth}")


class PauliList(tuple[str, ...]):
    """Pauli labels; printed like qiskit's ``PauliList(['IY'])`` contents."""

    def __str__(self) -> str:
        return str(list(self))


class SparsePauliOp:
    """An observable as a weighted sum of Pauli strings over I, X, Y, Z."""

    def __init__(self, data: str | Sequence[str], coeffs: Sequence[complex] | None = None) -> None:
        labels = (data,) if isinstance(data, str) else tuple(data)
        if not labels or any(not label or set(label) - set("IXYZ") for label in labels):
            raise ValueError(f"Pauli labels are non-empty strings over I, X, Y, Z; got {data!r}")
        if len({len(label) for label in labels}) != 1:
            raise ValueError(f"Pauli labels must have one length, got {labels!r}")
        self.paulis = PauliList(labels)
        self.coeffs = [complex(c) for c in coeffs] if coeffs is not None else [1 + 0j] * len(labels)
        if len(self.coeffs) != len(labels):
            raise ValueError(f"{len(labels)} labels but {len(self.coeffs)} coefficients")

    @property
    def num_qubits(self) -> int:
        return len(self.paulis[0])

    def __repr__(self) -> str:
        return f"SparsePauliOp({list(self.paulis)!r}, coeffs={self.coeffs!r})"


def display(obj: object) -> None:
    """IPython's display, reduced to printing."""
    print(obj)
