"""Checks a PTX file for the wgmma.fence rule of the PTX ISA: between an
instruction that writes a register and a wgmma.mma_async that reads or
writes the same register (its accumulator D, or A when A comes from
registers), a wgmma.fence must come. Reports every wgmma whose registers
were written since the last fence, with the instruction that wrote them.

The scan is linear in the text (a fence and its wgmmas share a straight
line of code in what the NVIDIA backend writes), per entry function, and
ignores instructions without a register destination (stores, barriers,
branches) and the wgmma group instructions themselves.

Usage: python scripts/gpu/check_wgmma_fences.py KERNELS.ptx
Exit status 1 (and one line per violation) if any wgmma breaks the rule.
"""
import re
import sys

REGISTER = re.compile(r"%[rf]\d+")
# An instruction's destinations: its first operand, a register or a
# vector of them ({%r1, %r2}).
DESTINATION = re.compile(r"^(?:@!?%p\d+\s+)?[a-z][\w.:]*\s+(\{[^}]*\}|%[rf]\d+)\s*,")
NO_DESTINATION = ("st.", "bar.", "bra", "ret", "cp.async", "mbarrier", "fence", "red.",
                  "prefetch", "setmaxnreg", "wgmma.commit", "wgmma.wait")


def wgmma_registers(text):
    """The D registers and, for the register-A form, A's registers."""
    operands = text.split(None, 1)[1]
    groups = re.findall(r"\{([^}]*)\}", operands)
    registers = set()
    for group in groups[:2]:  # D, then A when A is a register vector
        registers |= set(REGISTER.findall(group))
    return registers


def check(path):
    violations = []
    entry = None
    written = {}  # register -> (line, text) since the last fence
    seen_fence = False
    with open(path) as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text.startswith((".entry", ".visible .entry")):
            entry = re.search(r"\.entry\s+(\w+)", text).group(1)
            written, seen_fence = {}, False
            continue
        if not text or text.startswith(("//", ".", "{", "}", "$")) or text.endswith(":"):
            continue
        if text.startswith("wgmma.fence"):
            written, seen_fence = {}, True
            continue
        if text.startswith("wgmma.mma_async"):
            clash = sorted(wgmma_registers(text) & written.keys(), key=lambda r: written[r][0])
            if not seen_fence:
                violations.append(f"{path}:{number}: {entry}: wgmma.mma_async with no "
                                  f"wgmma.fence before it")
            elif clash:
                at, writer = written[clash[0]]
                shown = ", ".join(clash[:4]) + (f" and {len(clash) - 4} more" if len(clash) > 4 else "")
                violations.append(f"{path}:{number}: {entry}: wgmma.mma_async uses {shown}, "
                                  f"written after the last wgmma.fence (first at line {at}: "
                                  f"{writer})")
            continue
        if text.startswith(NO_DESTINATION):
            continue
        match = DESTINATION.match(text)
        if match:
            for register in REGISTER.findall(match.group(1)):
                written[register] = (number, text)
    return violations


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    violations = check(sys.argv[1])
    for v in violations:
        print(v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
