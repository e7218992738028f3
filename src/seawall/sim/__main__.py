"""`python -m seawall.sim --port 8900 ...`: the same options as `seawall simulate`."""

import argparse
import sys

from .cli import add_arguments, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m seawall.sim",
                                     description="Fake OpenAI/Anthropic upstream with faults.")
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
