"""attrition-deploy's main: parse (parser.py), run the subcommand (commands.py), print the result.

Exit codes: 0 done, 1 AWS said no (one line) or a bug (its traceback), 2 the command line or a local file
is wrong (errors.UserError).
"""

import os
import sys

from . import parser
from .aws import AwsError, Runner, dump
from .errors import UserError


def main(argv: list[str] | None = None) -> int:
    command = parser.parse(argv)
    args = command.options
    try:
        runner = Runner(args.region, args.dry_run, args.profile, read_live=args.command == "delete")
        result = command.run(runner)
    except AwsError as error:
        print(f"attrition-deploy {args.command}: {error}", file=sys.stderr)
        return 1
    except (OSError, UserError) as error:  # a local file, a bad value, or MLflow saying no; a bug keeps its traceback
        print(f"attrition-deploy {args.command}: {error}", file=sys.stderr)
        return 2
    try:
        print(dump(runner.plan) if args.dry_run else result, flush=True)
    except BrokenPipeError:  # a reader that stopped early (`| head`): what it read was all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
