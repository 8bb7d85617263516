"""The documentation site's generated pages (an mkdocs hook, mkdocs.yml): the serving API from
the image's openapi.json, and the deploy CLI from its parser. The pages hold a marker; the
reference is written in its place at build time, so it cannot drift from the code."""

import argparse
import json
from pathlib import Path

from attrition_deploy import parser as deploy_parser

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "container" / "program" / "attrition" / "serve" / "openapi.json"
MARKERS = {"<!-- openapi -->": lambda: api_reference(json.loads(OPENAPI.read_text())),
           "<!-- deploy-cli -->": lambda: cli_reference(deploy_parser.build())}


def on_page_markdown(markdown: str, **_) -> str:
    for marker, render in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown


def cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def api_reference(document: dict) -> str:
    """One section per operation: what it does, its parameters, bodies and answers."""
    out = [document["info"].get("description", ""), ""]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            out += [f"## `{method.upper()} {path}`", "", operation.get("summary", ""), ""]
            if operation.get("description"):
                out += [operation["description"], ""]
            parameters = operation.get("parameters", [])
            if parameters:
                out += ["| parameter | in | what it is |", "|---|---|---|"]
                out += [f"| `{p['name']}` | {p['in']} | {cell(p.get('description', ''))} |" for p in parameters]
                out.append("")
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                out += ["Request bodies: " + ", ".join(f"`{kind}`" for kind in body), ""]
            out += ["| status | meaning |", "|---|---|"]
            out += [f"| {status} | {cell(answer.get('description', ''))} |"
                    for status, answer in operation.get("responses", {}).items()]
            out.append("")
    return "\n".join(out)


def usage(action: argparse.Action) -> str:
    """An option as a user types it (`--bucket BUCKET`), or a positional's name."""
    if not action.option_strings:
        return str(action.metavar or action.dest)
    value = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
    return ", ".join(action.option_strings) + value


def cli_reference(top: argparse.ArgumentParser) -> str:
    """One section per subcommand: its description and every option with its help."""
    subcommands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    out = [cell(top.description), ""]
    for name, sub in subcommands.choices.items():
        out += [f"## `attrition-deploy {name}`", "", cell(sub.description), ""]
        out += ["| option | what it does |", "|---|---|"]
        for action in sub._actions:
            if action.help in (None, argparse.SUPPRESS) or isinstance(action, argparse._HelpAction):
                continue
            out.append(f"| `{usage(action)}` | {cell(action.help % vars(action))} |")
        out.append("")
    return "\n".join(out)
