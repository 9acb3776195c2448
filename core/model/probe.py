"""Running an uploaded model for the first time: on real rows, in a child process, with a time limit.

The input width of a model that indexes, embeds or transforms its input cannot be read off a
layer's shape; the only honest test is to run it on a batch of the dataset's selected columns
and look at what comes back. An upload's first forward pass is also the moment a hostile or
broken model shows itself: a TorchScript loop that runs for minutes, or an allocation that
fills the server's memory.

Why a child process and not a thread: a Python thread cannot be stopped, so a runaway forward
pass would keep burning a core of the shared server (and holding its memory) long after the user
was told "timed out". A forked child can be killed. Forking the already-loaded interpreter costs
about 60 ms on these machines (the forward runs with the JIT's optimisation off and one thread,
so the child never touches the parent's OpenMP pool); a freshly spawned interpreter would pay 4–7 s
just to import torch. Memory is capped in the child (address space = what the parent already maps
+ ``MEMORY_MARGIN``), so an allocation bomb kills the child, not the server. Results are cached by
model hash × rows, so re-binding the same pair does not fork again.

Where ``fork`` is unavailable or unsafe (Windows, macOS) the probe runs in-process without a time
limit, and says so in ``ProbeResult.isolated``. Forking a multi-threaded server is safe only for
what the child does: it imports nothing, runs one thread with the JIT optimiser off, and probes
are serialised by a lock; a child that still hangs is killed at the time limit like a looping model.
"""
from __future__ import annotations

import io
import multiprocessing as mp
import re
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.cache import named_memo
from core.errors import ModelError
from core.hashing import digest

PROBE_TIMEOUT_S = 10.0
PROBE_ROWS = 256
MEMORY_MARGIN = 2 * 1024**3  # bytes of address space the child may add to what the parent already maps
_CACHE = named_memo("core.model.probe.probe", 64)


@dataclass(frozen=True)
class ProbeResult:
    """What one forward pass on real rows returned: the output width, whether it is finite, how long it took."""

    n_rows: int
    n_columns: int
    output_width: int
    finite: bool
    seconds: float
    isolated: bool  # True when it ran in a killable child process with a time limit


try:
    import resource  # imported here, not in the child: a fork must not need the import lock
except ImportError:  # pragma: no cover - non-POSIX platforms
    resource = None
_FORK_LOCK = threading.Lock()  # one probe forks at a time


def _child(conn, data: bytes, X: np.ndarray) -> None:  # pragma: no cover - runs in the forked child
    try:
        try:
            vm = _address_space()
            if vm:
                resource.setrlimit(resource.RLIMIT_AS, (vm + MEMORY_MARGIN, vm + MEMORY_MARGIN))
        except Exception:
            pass
        torch.set_num_threads(1)
        module = torch.jit.load(io.BytesIO(data), map_location="cpu")
        module.eval()
        with torch.jit.optimized_execution(False), torch.inference_mode():
            out = module(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
        if not isinstance(out, torch.Tensor):
            conn.send(("error", "not a tensor", type(out).__name__))
            return
        flat = out.detach().reshape(out.shape[0], -1) if out.dim() else out.reshape(1, 1)
        conn.send(("ok", int(flat.shape[0]), int(flat.shape[1]), bool(torch.isfinite(flat).all())))
    except MemoryError:
        conn.send(("error", "memory", "MemoryError"))
    except BaseException as exc:  # the TorchScript error text is what the user needs
        conn.send(("error", "raised", str(exc)))
    finally:
        conn.close()


def _address_space() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def _model_bytes(scripted: torch.jit.ScriptModule) -> bytes:
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    return buf.getvalue()


def probe(scripted: torch.jit.ScriptModule, X: np.ndarray, *, timeout: float | None = None,
          n_rows: int = PROBE_ROWS, key: str | None = None) -> ProbeResult:
    """Run ``scripted`` once on up to ``n_rows`` rows of ``X``; ModelError in one plain sentence if it fails.

    ``timeout`` defaults to ``PROBE_TIMEOUT_S`` (read at call time); ``key`` (e.g. the model's
    content hash) enables the cache; the rows are part of the key.
    """
    timeout = PROBE_TIMEOUT_S if timeout is None else float(timeout)
    rows = np.ascontiguousarray(np.asarray(X, dtype=np.float32)[:n_rows])
    if rows.ndim != 2 or len(rows) == 0:
        raise ModelError("There are no rows to try the model on.", "Load a dataset with at least one applicant.")
    if key:
        return _CACHE.get_or_compute(digest([key, rows], length=32), lambda: _probe(scripted, rows, timeout))
    return _probe(scripted, rows, timeout)


def _probe(scripted: torch.jit.ScriptModule, rows: np.ndarray, timeout: float) -> ProbeResult:
    started = time.perf_counter()
    if "fork" in mp.get_all_start_methods() and sys.platform.startswith("linux"):
        data = _model_bytes(scripted)
        with _FORK_LOCK:
            reply = _run_forked(data, rows, timeout)
        isolated = True
    else:  # pragma: no cover - non-POSIX platforms
        reply = _run_here(scripted, rows)
        isolated = False
    seconds = time.perf_counter() - started
    if reply[0] != "ok":
        raise ModelError(failure_sentence(reply, rows.shape[1], timeout), _hint(reply))
    return ProbeResult(len(rows), int(rows.shape[1]), int(reply[2]), bool(reply[3]), seconds, isolated)


def _run_forked(data: bytes, rows: np.ndarray, timeout: float) -> tuple:
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, data, rows), daemon=True)
    proc.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                return receiver.recv()
            except EOFError:  # the child died without answering (killed by the memory cap, a crash)
                proc.join(1.0)
                return ("error", "died", f"exit code {proc.exitcode}")
        return ("error", "timeout", "")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(2.0)
        receiver.close()


def _run_here(scripted, rows: np.ndarray) -> tuple:  # pragma: no cover - non-POSIX platforms
    try:
        with torch.inference_mode():
            out = scripted(torch.from_numpy(rows))
        flat = out.detach().reshape(out.shape[0], -1)
        return ("ok", int(flat.shape[0]), int(flat.shape[1]), bool(torch.isfinite(flat).all()))
    except Exception as exc:
        return ("error", "raised", str(exc))


# --------------------------------------------------------------------------- saying what went wrong


def last_error_line(text: str) -> str:
    """The line of a TorchScript traceback that states the error (the last "…Error: …" line)."""
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        m = re.match(r"^(?:[A-Za-z_.]*Error|Exception)\s*:\s*(.+)$", ln)
        if m:
            return m.group(1).strip()
    return lines[-1] if lines else ""


_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)",
     "the model multiplies its data by a layer that expects {2} values per applicant but got {1}"),
    (r"index (-?\d+) is out of bounds for dimension \d+ with size (\d+)",
     "the model reads column {0} of its input but only {1} columns were given"),
    (r"index out of range in self",
     "an embedding lookup received a code outside its table: a categorical column holds a code the model "
     "never saw, is not a whole number, or the columns are in the wrong order"),
    (r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)",
     "the model combines values of width {1} with values of width {0}"),
    (r"shape '\[(.*?)\]' is invalid for input of size (\d+)",
     "the model reshapes its data to [{0}] but received {1} values"),
    (r"Expected .*? to have (\d+) channels?, but got (\d+)",
     "a layer expects {0} values per applicant but got {1}"),
    (r"expected scalar type (\w+) but found (\w+)",
     "the model expects {0} numbers but received {1}"),
    (r"Expected tensor for argument #1 'indices' to have one of the following scalar types: (.*?); but got (.*?) instead",
     "an embedding lookup received {1} values instead of integer codes"),
)


def failure_sentence(reply: tuple, n_columns: int, timeout: float) -> str:
    """One plain sentence: what the model expected, read from the TorchScript error."""
    status = reply[1]
    if status == "timeout":
        return (f"The model did not answer within {timeout:.0f} s on a batch of applicants (its forward pass may loop "
                "or be far too large), so RiskPrune stopped it.")
    if status in ("memory", "died") or (status == "raised" and "can't allocate memory" in str(reply[2])):
        return "The model used more memory than allowed on a small batch of applicants, so RiskPrune stopped it."
    if status == "not a tensor":
        return f"The model returns a {reply[2]} instead of one tensor of scores."
    detail = last_error_line(reply[2])
    for pattern, sentence in _PATTERNS:
        m = re.search(pattern, detail)
        if m:
            return f"The model failed on the {n_columns} selected columns: {sentence.format(*m.groups())}."
    shown = detail[:200] if detail else "an unknown error"
    return f"The model failed on the {n_columns} selected columns ({shown})."


def _hint(reply: tuple) -> str:
    if reply[1] == "timeout":
        return "Export a model whose forward pass only scores its inputs (no long loops), or contact its developer."
    if reply[1] in ("memory", "died") or "can't allocate memory" in str(reply[2]):
        return "Check that this is the right model file; a credit model scores a batch in far less memory."
    return "Select exactly the columns the model was trained on, in training order (or export it with its feature schema)."
