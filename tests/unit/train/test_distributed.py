"""Training on two hosts with LightGBM's data-parallel network: two real processes on loopback,
each its own /opt/ml, as SageMaker starts one container per host."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from attrition.core.platform.environment import DistributedSettings
from attrition.core.platform.errors import UserError
from attrition.core.predict import model
from attrition.core.quality import metrics
from attrition.core.table import features
from attrition.train import distributed
from tests.container.docker_helpers import distributed_ports
from tests.helpers import ROOT, make_opt_ml

SETTINGS = DistributedSettings(port=12400, timeout_minutes=1)
# Early stopping on, as by default, but fewer trees; num_threads 0 as by default: the hosts share the cores.
HP = {"num_boost_round": "400", "early_stopping_rounds": "40"}


def test_one_host_is_no_cluster_and_the_leader_is_hosts_0():
    assert distributed.cluster({}, SETTINGS) is None
    assert distributed.cluster({"current_host": "algo-1", "hosts": ["algo-1"]}, SETTINGS) is None
    group = distributed.cluster({"current_host": "algo-2", "hosts": ["algo-2", "algo-1"],
                                 "network_interface_name": "eth0"}, SETTINGS)
    assert group is not None and group.leader and (group.rank, group.size, group.interface) == (0, 2, "eth0")
    with pytest.raises(UserError, match="current_host 'algo-3' must be one of"):
        distributed.cluster({"current_host": "algo-3", "hosts": ["algo-1", "algo-2"]}, SETTINGS)



def test_a_host_alone_and_a_cluster_differ_only_where_the_hosts_say(tmp_path):
    """The train job asks Hosts, never `is the cluster None`: alone, it keeps its checkpoints,
    threads and model; in a cluster only the leader writes, nobody checkpoints, and sharding marks
    every host's share as its own files."""
    alone = distributed.hosts({}, SETTINGS)
    assert alone.writes and not alone.sharded and alone.shard() == alone and alone.threads(3) == 3
    assert alone.checkpoint_folder(tmp_path) == tmp_path
    alone.trained(100)
    alone.finish()  # nothing to wait for
    resources = {"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}
    member = distributed.hosts(resources, SETTINGS)
    assert not member.writes and member.checkpoint_folder(tmp_path) is None and member.threads(3) == 3
    sharded = member.shard()
    assert sharded.sharded and sharded.cluster is not None and list(sharded.cluster.share(4)) == [0, 1, 2, 3]
    assert distributed.hosts({**resources, "current_host": "algo-1"}, SETTINGS).writes
    # what fitting asks: the rows to grow on, and LightGBM's parameters for where it grows
    assert list(alone.share(4)) == [0, 1, 2, 3] and alone.lightgbm_params() == {} and alone == distributed.ALONE
    assert list(member.share(5)) == [1, 3] and list(sharded.share(5)) == [0, 1, 2, 3, 4]
    assert member.lightgbm_params() == {"tree_learner": "data", "num_machines": 2, "pre_partition": True}


def test_the_shares_split_the_rows_exactly_once():
    hosts = ("a", "b", "c")
    shares = [distributed.Cluster(hosts, h, "", SETTINGS).share(10) for h in hosts]
    assert sorted(np.concatenate(shares).tolist()) == list(range(10))
    assert [len(s) for s in shares] == [4, 3, 3]


def _colocated(tmp_path, boot_ids: list[str]) -> list[int]:
    """Two hosts on loopback, each with the boot id given, as two threads of this process."""
    settings = DistributedSettings(port=distributed_ports(), timeout_minutes=1)
    hosts = ("localhost", "127.0.0.1")
    found: dict[int, int] = {}

    def host(k: int) -> None:
        (tmp_path / f"boot{k}").write_text(boot_ids[k] + "\n")
        found[k] = distributed.colocated(distributed.Cluster(hosts, hosts[k], "", settings), tmp_path / f"boot{k}")

    both = [threading.Thread(target=host, args=(k,)) for k in (0, 1)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(30)
    return [found.get(0, 0), found.get(1, 0)]


def test_hosts_on_one_kernel_find_each_other_and_hosts_on_two_do_not(tmp_path):
    assert _colocated(tmp_path, ["kernel-a", "kernel-a"]) == [2, 2]
    assert _colocated(tmp_path, ["kernel-a", "kernel-b"]) == [1, 1]


def test_threads_asked_for_are_kept_without_asking_the_other_hosts():
    group = distributed.Cluster(("localhost", "127.0.0.1"), "localhost", "", SETTINGS)
    assert distributed.threads(group, 3) == 3  # no other host answers: a handshake would fail


def _split(ibm_text: str) -> tuple[str, str]:
    """Every fifth employee held out: the comparison's test rows."""
    header, *lines = ibm_text.splitlines()
    train = [line for i, line in enumerate(lines) if i % 5]
    test = [line for i, line in enumerate(lines) if not i % 5]
    return "\n".join([header, *train]) + "\n", "\n".join([header, *test]) + "\n"


def _train(base, train_text, resources=None, port=0, validation_text=None, sharded=False, hp=HP):
    channels = {"train": {"ibm.csv": train_text}}
    if validation_text:
        channels["validation"] = {"v.csv": validation_text}
    paths = make_opt_ml(base, hp, channels)
    if resources:
        paths.resource_config_file.write_text(json.dumps(resources))
    if sharded:
        paths.input_data_config_file.write_text(json.dumps({"train": {"S3DistributionType": "ShardedByS3Key"},
                                                            "validation": {"S3DistributionType": "FullyReplicated"}}))
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "ATTRITION_DISTRIBUTED_TIMEOUT": "1",
           "PYTHONPATH": str(ROOT / "container" / "program")}
    if port:
        env["ATTRITION_DISTRIBUTED_PORT"] = str(port)
    return subprocess.Popen([sys.executable, "-c", "import sys; from attrition.train import job; sys.exit(job.main())"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _held_out_auc(model_dir, test_text) -> float:
    import csv
    import io

    trained = model.load(model_dir)
    rows = list(csv.DictReader(io.StringIO(test_text)))
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    y = np.array([r["Attrition"] == "Yes" for r in rows], dtype=float)
    return metrics.roc_auc(y, trained.predict(features.encode(trained.schema, columns, len(rows))))


def test_two_hosts_train_one_model_as_good_as_one_host(tmp_path, ibm_text):
    train_text, test_text = _split(ibm_text)
    port = distributed_ports()
    hosts = ["localhost", "127.0.0.1"]  # two names for loopback: LightGBM tells the hosts apart by port
    workers = [_train(tmp_path / f"host{k}", train_text, {"current_host": h, "hosts": hosts}, port)
               for k, h in enumerate(hosts)]
    single = _train(tmp_path / "single", train_text)
    logs = [w.communicate(timeout=300)[0] for w in workers]
    assert single.wait(timeout=300) == 0
    assert [w.returncode for w in workers] == [0, 0], logs
    trained = [int(line.rsplit("rows=", 1)[1]) for log in logs for line in log.splitlines()
               if line.startswith("distributed: host=")]
    assert trained == [588, 588] and sum(trained) == len(train_text.splitlines()) - 1
    assert "rank=0/2" in logs[0] and "rank=1/2" in logs[1]
    cores = os.cpu_count() or 1
    assert all(f"distributed: 2 hosts share this machine's {cores} cores: {max(1, cores // 2)} thread(s) each"
               in log for log in logs), logs
    assert (tmp_path / "host0" / "model" / "model.txt").is_file()
    assert not any((tmp_path / f"host{k}" / "output" / "failure").exists() for k in (0, 1))
    assert not (tmp_path / "host1" / "model" / "model.txt").exists()  # only the leader writes
    for name in ("metrics.json", "evaluation.json", "report.html", "bias.json"):
        assert (tmp_path / "host0" / "output" / "data" / name).is_file()
    two = _held_out_auc(tmp_path / "host0" / "model", test_text)
    one = _held_out_auc(tmp_path / "single" / "model", test_text)
    assert abs(two - one) < 0.01, (two, one)


def test_sharded_hosts_train_one_model_on_their_own_files(tmp_path, ibm_text):
    """ShardedByS3Key: host 1 received 700 employees' file, host 2 the rest; both hold the same
    validation channel, which stops the model early and chooses its threshold."""
    train_text, test_text = _split(ibm_text)
    header, *lines = train_text.splitlines()
    validation = [line for i, line in enumerate(lines) if i % 6 == 0]
    rest = [line for i, line in enumerate(lines) if i % 6]
    files = ["\n".join([header, *part]) + "\n" for part in (rest[:700], rest[700:])]
    validation_text = "\n".join([header, *validation]) + "\n"
    port = distributed_ports()
    hosts = ["localhost", "127.0.0.1"]
    # patience as long as the trees: 196 validation rows give a noisy AUC, which an early peak can fool
    hp = {**HP, "early_stopping_rounds": HP["num_boost_round"]}
    workers = [_train(tmp_path / f"host{k}", files[k], {"current_host": h, "hosts": hosts}, port, validation_text,
                      sharded=True, hp=hp) for k, h in enumerate(hosts)]
    single = _train(tmp_path / "single", "\n".join([header, *rest]) + "\n", validation_text=validation_text, hp=hp)
    logs = [w.communicate(timeout=300)[0] for w in workers]
    assert single.wait(timeout=300) == 0
    assert [w.returncode for w in workers] == [0, 0], logs
    trained = [int(line.rsplit("rows=", 1)[1]) for log in logs for line in log.splitlines()
               if line.startswith("distributed: host=")]
    assert trained == [700, len(rest) - 700]
    metrics_json = json.loads((tmp_path / "host0" / "output" / "data" / "metrics.json").read_text())
    assert "ShardedByS3Key" in metrics_json["validation_source"] and metrics_json["cross_validation"]["folds"] == 0
    assert not (tmp_path / "host1" / "model" / "model.txt").exists()  # only the leader writes
    two = _held_out_auc(tmp_path / "host0" / "model", test_text)
    one = _held_out_auc(tmp_path / "single" / "model", test_text)
    assert abs(two - one) < 0.02, (two, one)
