"""Every option is typed and checked by argparse: a wrong value is one line and exit code 2,
before any request is made (no moto here, no network)."""

import dataclasses

import pytest

from attrition_deploy import options, parser

GOOD_DEPLOY = ["deploy", "--endpoint", "attrition", "--variant", "name=main,model=attrition-v1"]


@pytest.mark.parametrize("args, message", [
    (GOOD_DEPLOY + ["--autoscale", "1:4"], "is not MIN:MAX:INVOCATIONS"),
    (GOOD_DEPLOY + ["--autoscale", "4:1:1000"], "MIN 4 is above MAX 1"),
    (GOOD_DEPLOY + ["--capture-percent", "150"], "'150' is outside 0..100"),
    (GOOD_DEPLOY + ["--canary", "10"], "--canary needs at least one --alarm"),
    (GOOD_DEPLOY + ["--canary", "60", "--alarm", "a"], "'60' is outside 1..50"),
    (GOOD_DEPLOY + ["--canary-interval", "5000"], "'5000' is outside 0..3600"),
    (["deploy", "--endpoint", "e", "--variant", "name=a,model=m,serverless-memory=1500"], "must be 1024, 2048"),
    (["deploy", "--endpoint", "e", "--variant", "name=a,model=m,serverless-memory=2048,count=2"],
     "a serverless variant has no instance-type or count"),
    (GOOD_DEPLOY + ["--async-success-topic", "arn:aws:sns:us-east-1:1:t"], "need --async-output"),
    (["role", "--bucket", "hr-models", "--s3", "hr/capture"], "is not an s3://bucket/prefix URI"),
    (GOOD_DEPLOY + ["--variant", "name=main,model=other"], "--variant names must differ"),
    (["deploy", "--endpoint", "attrition", "--variant", "name=a,model=m,count=0"], "'0' is outside 1..1000"),
    (["deploy", "--endpoint", "attrition", "--variant", "name=a,model=m,weight=-1"], "'-1' is outside"),
    (["deploy", "--endpoint", "attrition", "--variant", "name=a"], "needs name= and model="),
    (["deploy", "--endpoint", "bad_name", "--variant", "name=a,model=m"], "'bad_name' is not a SageMaker name"),
    (["deploy", "--endpoint", "bad.name", "--variant", "name=a,model=m"], "'bad.name' is not a SageMaker name"),
    (["train-job", "--image", "i", "--role", "r", "--train", "hr-data/train", "--output", "s3://hr-data/o"],
     "is not an s3://bucket/prefix URI"),
    (["train-job", "--image", "i", "--role", "r", "--train", "s3://hr-data/t", "--output", "s3://hr-data/o",
      "--instance-type", "m5.large"], "is not a SageMaker instance type"),
    (["train-job", "--image", "i", "--role", "r", "--train", "s3://hr-data/t", "--output", "s3://hr-data/o",
      "--hp", "folds"], "'folds' is not NAME=VALUE"),
    *[(["train-job", "--image", "i", "--role", "r", "--train", "s3://hr-data/t", "--output", "s3://hr-data/o",
        "--hp", hp], message) for hp, message in [  # #23: the image would fail each of these jobs
          ("nosuch=1", "unknown hyperparameter 'nosuch'; the image takes: label_column,"),
          ("folds=abc", "hyperparameter folds='abc' is not a valid int"),
          ("folds=2.5", "hyperparameter folds='2.5' is not a valid int"),
          ("learning_rate=5", "hyperparameter learning_rate='5' is out of range: must be 1e-06..1.0"),
          ("learning_rate=nan", "hyperparameter learning_rate='nan' is not a valid float"),
          ("boosting=xgboost", "hyperparameter boosting='xgboost' must be one of gbdt, dart, rf"),
          ("extra_trees=maybe", "hyperparameter extra_trees='maybe' must be true or false")]],
    (["package", "model", "--bucket", "B"], "'B' is not an S3 bucket name"),
    (["invoke", "--endpoint", "e", "f.csv", "--explain", "0"], "'0' is outside 1..100"),
    (["deploy", "--endpoint", "e", "--variant", "name=a,model=m,serverless-memory=2048", "--autoscale", "1:4:100"],
     "--autoscale scales instances; serverless variant(s) a have none"),
    (["approve", "--version", "attrition/2", "--reason", "  "], "a reason is required"),
    (GOOD_DEPLOY + ["--shadow", "name=s,model=m2,sampling=150"], "'150' is outside 1.0..100.0"),
    (GOOD_DEPLOY + ["--shadow", "name=s,model=m2"], "needs sampling=PERCENT"),
    (GOOD_DEPLOY + ["--shadow", "name=main,model=m2,sampling=10"], "is also a --variant's"),
    (["deploy", "--endpoint", "e", "--variant", "name=a,model=m,serverless-memory=2048", "--shadow",
      "name=s,model=m2,sampling=10"], "SageMaker refuses it with serverless variants or --async-output"),
    (GOOD_DEPLOY + ["--async-output", "s3://hr-data/out", "--shadow", "name=s,model=m2,sampling=10"],
     "needs a real-time endpoint of instances"),
])
def test_bad_options_fail_at_once_in_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        parser.parse(args)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert message in err and err.count("\n") == 1, err


def test_global_options_stand_before_or_after_the_subcommand():
    before = parser.parse(["--dry-run", "--region", "eu-west-1", *GOOD_DEPLOY]).options
    after = parser.parse([*GOOD_DEPLOY, "--region", "eu-west-1", "--dry-run"]).options
    plain = parser.parse(GOOD_DEPLOY).options
    assert (before.region, before.dry_run) == (after.region, after.dry_run) == ("eu-west-1", True)
    assert (plain.region, plain.dry_run) == (None, False)


def test_every_option_has_help_text():
    top = parser.build()
    subparsers = next(a for a in top._actions if a.dest == "command").choices
    for name, sub in subparsers.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_a_bug_keeps_its_traceback_and_is_never_passed_off_as_bad_input(offline, capsys, monkeypatch):
    """#22: a ValueError from our code is a bug (exit 1, traceback), not a user's mistake (exit 2)."""
    import pytest

    from attrition_deploy import commands

    def broken(args, aws):
        raise ValueError("a bug")

    monkeypatch.setattr(commands, "role", broken)
    from tests.deploy.offline import run

    with pytest.raises(ValueError, match="a bug"):
        run(capsys, "role", "--bucket", "hr-models", "--dry-run")
    code, _, err = run(capsys, "approve", "--reason", "x", "--dry-run")
    assert code == 2 and err.count("\n") == 1  # a user's mistake stays one line


def test_the_options_are_read_only_once_parsed():
    """Commands read their options and never write into them: what they work out travels in their
    own values (a registration's Source), so one subcommand's run cannot change another's input."""
    command = parser.parse(["register", "--name", "m", "--image", "i", "--model-data", "s3://hr-models/m.tar.gz",
                            "--role", "arn:aws:iam::123456789012:role/attrition", "--env", "A=1"])
    assert isinstance(command.options, options.Register)
    with pytest.raises(dataclasses.FrozenInstanceError, match="model_data"):
        command.options.model_data = "s3://elsewhere/m.tar.gz"
    assert command.options.model_data == "s3://hr-models/m.tar.gz"
    assert command.options.env == (("A", "1"),)  # repeated options are tuples: no append either


def test_each_subcommand_has_its_own_options_class_with_exactly_its_options():
    """The typed options and the parser cannot drift: a field without an option (or an option
    without a field) fails here, and mypy holds each handler to its class (parser.subcommand)."""
    subparsers = next(a for a in parser.build()._actions if a.dest == "command").choices
    classes = {each.name: each.options for each in parser.subcommands()}
    assert set(classes) == set(subparsers)
    assert len(set(classes.values())) == len(classes)  # one class per subcommand
    for name, sub in subparsers.items():
        dests = {a.dest for a in sub._actions if a.dest != "help"} | {"command"}
        assert {f.name for f in dataclasses.fields(classes[name])} == dests, name
