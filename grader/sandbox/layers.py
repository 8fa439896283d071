"""Which kernel layers a child actually got, and how a run says so.

Five layers depend on the machine (kernel version, container policy, installed
libraries): ``files`` (Landlock), ``network`` (namespaces), ``disk`` (a private tmpfs with a
quota, in a mount namespace), ``syscalls`` (seccomp) and ``signals`` (Landlock scoping). The others (nothing inherited, own scratch copy, limits)
exist wherever the grader runs. Each child tries every layer and reports what it got; a
run states the result on its first line, in summary.md, in report.html and in every
results.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KERNEL_LAYERS = ("files", "network", "disk", "syscalls", "signals")
WORDS = {
    "files": "filesystem",
    "network": "network",
    "disk": "disk space",
    "syscalls": "system calls",
    "signals": "signals",
}
MODES = ("best", "require", "off")
OFF = "turned off with --sandbox off"


def _platform() -> str:
    from grader.sandbox.native import PLATFORM

    return PLATFORM


class SandboxError(RuntimeError):
    """The sandbox cannot give the protection the run asked for; grading must not start."""


@dataclass
class LayerReport:
    """What one child (or the start-up probe) got: layer -> how it is on, or why it is missing."""

    on: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    platform: str = field(default_factory=lambda: _platform())
    seconds: float = 0.0  # how long putting the layers up took in the child

    @property
    def complete(self) -> bool:
        return not self.missing

    def line(self) -> str:
        """One line for the top of a run, summary.md and the feedback."""
        if not self.on and self.platform != "linux" and not self.platform.startswith("linux"):
            return (
                f"sandbox: none of the kernel layers exist on this platform ({self.platform}); the code runs "
                "in a plain child process with a time limit. This is not the grading sandbox."
            )
        on = ", ".join(f"{WORDS[k]} ({self.on[k]})" for k in KERNEL_LAYERS if k in self.on)
        if self.complete:
            return f"sandbox: all layers on: {on}"
        missing = "; ".join(f"{WORDS[k]} ({self.missing[k]})" for k in KERNEL_LAYERS if k in self.missing)
        return f"sandbox: MISSING {missing}. On: {on or 'none of the kernel layers'}"

    def to_dict(self) -> dict:
        return {
            "on": dict(self.on),
            "missing": dict(self.missing),
            "platform": self.platform,
            "line": self.line(),
            "seconds": round(self.seconds, 4),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LayerReport:
        return cls(
            dict(data.get("on", {})),
            dict(data.get("missing", {})),
            str(data.get("platform", "")),
            float(data.get("seconds", 0.0)),
        )
