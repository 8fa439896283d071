"""The warm server leaves torch's compiler unloaded (grader/sandbox/dynamo_deferral.py).

Each script runs in an interpreter of its own, as after ``python -c "import torch; ..."``
(fixtures/after_torch.py: forks of one process that imported torch): the deferral changes
``sys.modules``, and whether the compiler is loaded is exactly what is being measured.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.after_torch import run_each

REPO = Path(__file__).resolve().parents[1]

TRAIN = """
import hashlib, json, sys
import torch
from grader.sandbox import dynamo_deferral
deferred = dynamo_deferral.defer()
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
for optimizer in (torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9), torch.optim.Adam(net.parameters())):
    for _ in range(4):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.randn(6, 5)), torch.tensor([0, 1, 2, 0, 1, 2])).backward()
        optimizer.step()
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in net.parameters())).hexdigest()
compiler_loaded = any(name.startswith("torch._dynamo.") for name in sys.modules)
"""


REPORT = "print(json.dumps({'deferred': deferred, 'digest': digest, 'loaded': compiler_loaded}))"
SCRIPTS: dict[str, tuple[str, dict[str, str]]] = {}      # name -> (code, environment changes)


def script(name: str, code: str, **env: str) -> None:
    SCRIPTS[name] = (code, env)


@pytest.fixture(scope="module")
def ran() -> dict[str, dict]:
    """Every script's last line of output, as JSON, each run in its own process."""
    outcomes = run_each(list(SCRIPTS.values()), cwd=REPO)
    results = {}
    for name, (status, output) in zip(SCRIPTS, outcomes):
        assert status == 0, f"{name}:\n{output[-3000:]}"
        results[name] = json.loads(output.strip().splitlines()[-1])
    return results


script("deferred", TRAIN + REPORT)
script("plain", TRAIN + REPORT, GRADER_DEFER_DYNAMO="0")


def test_training_gives_the_same_weights_without_loading_the_compiler(ran):
    deferred, plain = ran["deferred"], ran["plain"]
    assert deferred["deferred"] and not deferred["loaded"]
    assert not plain["deferred"] and plain["loaded"]          # what the deferral saves: torch loads it
    assert deferred["digest"] == plain["digest"]


script("compiling", TRAIN + """
compiled = torch.compile(lambda x: x * 2 + 1, backend="eager")
value = compiled(torch.ones(2)).tolist()
import torch._dynamo
zero_grad = torch.optim.Optimizer.zero_grad.__wrapped__
optimizer.zero_grad()                       # its wrapper now builds torch's "do not compile" wrapper
cache = getattr(zero_grad, "__dynamo_disable")
print(json.dumps({"value": value, "still_deferred": dynamo_deferral.is_deferred(),
                  "real": type(torch._dynamo).__name__ == "module" and hasattr(torch._dynamo, "optimize"),
                  "cache_is_plain": cache is zero_grad}))
""")


def test_compiling_loads_the_real_compiler_and_torchs_own_wrappers(ran):
    assert ran["compiling"] == {"value": [3.0, 3.0], "still_deferred": False, "real": True, "cache_is_plain": False}


# The compiler's own modules import its config; a second run of config.py would leave
# them reading one object and the importer another.
script("submodule", TRAIN + """
import torch._dynamo.config as config
import torch._dynamo.eval_frame as eval_frame
from torch._dynamo.backends.registry import lookup_backend
print(json.dumps({"one_config": config is eval_frame.config is torch._dynamo.config is sys.modules["torch._dynamo.config"],
                  "eager": lookup_backend("eager").__name__,
                  "config_spec": type(config.__spec__.loader).__name__}))
""")


def test_a_submodule_import_loads_the_compiler_and_runs_each_module_once(ran):
    assert ran["submodule"] == {"one_config": True, "eager": "eager", "config_spec": "SourceFileLoader"}


script("unexpected wrapper", """
import json, sys
import torch, torch._compile
def _disable_dynamo(fn=None, recursive=True):     # a torch whose wrapper caches elsewhere
    return fn
torch._compile._disable_dynamo = _disable_dynamo
from grader.sandbox import dynamo_deferral
print(json.dumps({"deferred": dynamo_deferral.defer(), "in_modules": "torch._dynamo" in sys.modules}))
""")


def test_an_unexpected_torch_wrapper_turns_the_deferral_off(ran):
    assert ran["unexpected wrapper"] == {"deferred": False, "in_modules": False}


script("preload", """
import json, sys
import grader.sandbox.preload
from grader.sandbox import dynamo_deferral
print(json.dumps({"deferred": dynamo_deferral.is_deferred(),
                  "loaded": sorted(n for n in sys.modules if n.startswith("torch._dynamo."))[:5]}))
""")


def test_the_warm_server_preload_leaves_the_compiler_unloaded(ran):
    assert ran["preload"] == {"deferred": True, "loaded": []}


def test_a_student_file_that_imports_the_compiler_is_graded_as_before(tmp_path):
    """Copied from the web: ``import torch._dynamo`` and a config line at the top of a file.
    The child loads the real compiler itself; its cache folder goes to the child's scratch."""
    from grader import selfcheck

    path = tmp_path / "task2_3180101234.py"
    path.write_text("import torch._dynamo\ntorch._dynamo.config.suppress_errors = True\n"
                    + (REPO / "solutions" / "task2.py").read_text(encoding="utf-8"), encoding="utf-8")
    result = selfcheck.check_file(path)
    assert (result.score, result.max_score) == (10, 10), result.text()
