"""Object stores through Beam FileSystems, against a real S3-compatible server started on localhost.

The server is moto's server mode (``python -m moto.server``: the S3 REST API over HTTP, its own process;
the test talks to it only through a socket, with boto3 and with Beam's ``s3://`` filesystem).
The sample shards are uploaded to a bucket, a pipeline reads them from ``s3://`` and writes data, rejects
and stages.json to ``s3://``; the result equals the same job on local paths. Listing errors surface the
URL and the cause instead of "matches nothing"; ``https://`` inputs get a clear configuration error.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from curation.cli import main as cli_main
from curation.config import load_config
from curation.io.shards import expand_sources
from curation.rules import ConfigError
from curation.run import run

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
BUCKET = "curation-test"
KINDS = ("web", "book", "code", "conversation")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[dict]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "localhost", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as s:
            if s.connect_ex(("localhost", port)) == 0:
                break
        assert server.poll() is None and time.monotonic() < deadline, "moto server did not start"
        time.sleep(0.2)
    endpoint = f"http://localhost:{port}"
    creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    client = boto3.client("s3", endpoint_url=endpoint, **creds)
    client.create_bucket(Bucket=BUCKET)
    for path in sorted(SAMPLE.rglob("*")):
        if path.is_file():
            client.upload_file(str(path), BUCKET, f"sample/{path.relative_to(SAMPLE).as_posix()}")
    args = [
        f"--s3_endpoint_url={endpoint}", "--s3_access_key_id=testing", "--s3_secret_access_key=testing",
        "--s3_region_name=us-east-1",
    ]
    try:
        yield {"client": client, "args": args, "endpoint": endpoint}
    finally:
        FileSystems.set_options(None)  # no S3 options leak into later tests of this process
        server.terminate()
        server.wait(timeout=30)


def _config(tmp_path: Path, root: str, name: str) -> Path:
    """Every source kind of the sample, light stages (read, normalize, dedup, write).

    Few stages on purpose: Beam's S3 filesystem builds a new boto3 client for every call (~0.1 CPU-s),
    and the commit of a wave checks and moves every output file one by one.
    """
    sources = ",\n".join(
        f'  {{name: s-{k}, kind: {k}, paths: ["{root}/{k}/*"]}}' for k in KINDS
    )
    text = (
        f"name: {name}\nmodels_dir: {REPO / 'models'}\nsources: [\n{sources}\n]\n"
        "stages:\n  - {name: normalize}\n  - {name: dedup}\n"
    )
    p = tmp_path / f"{name}.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _download(client: object, prefix: str, dest: Path) -> None:
    paginator = client.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            target = dest / obj["Key"][len(prefix) :].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(BUCKET, obj["Key"], str(target))  # type: ignore[attr-defined]


def _rows(out: Path, sub: str) -> list[dict]:
    rows = pq.read_table(out / sub).to_pylist()
    for r in rows:
        r["source_kind"] = str(r["source_kind"])
        r.pop("path", None)  # the shard's location: s3://... versus a local path
    return sorted(rows, key=lambda r: (r["source_kind"], r["id"], r.get("stage") or ""))


@pytest.mark.beam
def test_pipeline_reads_shards_from_s3_and_writes_outputs_to_s3(s3: dict, tmp_path: Path) -> None:
    local_out = tmp_path / "local"
    run(_config(tmp_path, str(SAMPLE), "local"), local_out, report=False)
    s3_out = f"s3://{BUCKET}/runs/one"
    run(_config(tmp_path, f"s3://{BUCKET}/sample", "remote"), s3_out, s3["args"], report=False)

    got = tmp_path / "from_s3"
    _download(s3["client"], "runs/one/", got)
    assert (got / "report" / "stages.json").is_file()
    data = _rows(got, "data")
    assert data and {r["source_kind"] for r in data} == set(KINDS)  # code tree found on S3 too
    assert data == _rows(local_out, "data")
    assert _rows(got, "rejects") == _rows(local_out, "rejects")
    remote = json.loads((got / "report" / "stages.json").read_text())
    local = json.loads((local_out / "report" / "stages.json").read_text())
    assert remote == local
    # and the object store is readable through Beam as well (what a later job or `--resume` does)
    with FileSystems.open(f"{s3_out}/report/stages.json") as fh:
        assert json.load(io.TextIOWrapper(fh, encoding="utf-8")) == local


def test_missing_bucket_names_the_url(s3: dict, tmp_path: Path) -> None:
    """Beam's S3 listing reports a missing bucket (HTTP 404) as empty; the error says so, with the URL."""
    FileSystems.set_options(PipelineOptions(s3["args"]))
    cfg = load_config(_config(tmp_path, "s3://no-such-bucket/sample", "missing"))
    with pytest.raises(ConfigError) as exc:
        expand_sources(cfg)
    msg = str(exc.value)
    assert "sources[0].paths" in msg and "s3://no-such-bucket/sample/web" in msg
    assert "check the bucket" in msg


def test_listing_errors_are_raised_with_the_url_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failing listing (here: Beam's error for S3 without options) is an error naming the URL."""
    from curation.io.shards import StorageError, match_pattern

    FileSystems.set_options(None)
    monkeypatch.setattr("apache_beam.options.value_provider.RuntimeValueProvider.runtime_options", None)
    with pytest.raises(StorageError, match=r"cannot list s3://bucket/shards: .*client or options"):
        match_pattern("s3://bucket/shards/*.jsonl")


def test_existing_bucket_without_matching_objects_says_matches_nothing(s3: dict, tmp_path: Path) -> None:
    FileSystems.set_options(PipelineOptions(s3["args"]))
    cfg = load_config(_config(tmp_path, f"s3://{BUCKET}/nothing-here", "empty"))
    with pytest.raises(ConfigError, match="matches nothing"):
        expand_sources(cfg)


def test_https_input_is_a_clear_configuration_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = tmp_path / "web.yaml"
    cfg.write_text('sources:\n  - {kind: web, paths: ["https://example.org/crawl/*.warc.gz"]}\n')
    assert cli_main(["validate", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "sources[0].paths" in err and "https:// is not a supported storage" in err
    assert "Traceback" not in err


def test_https_output_is_a_clear_configuration_error(capsys: pytest.CaptureFixture) -> None:
    rc = cli_main(["run", "--config", str(REPO / "rules" / "pipeline.yaml"), "--output", "https://x.org/o"])
    assert rc == 2
    assert "'--output': https:// is not a supported storage" in capsys.readouterr().err


def test_local_and_s3_paths_have_a_filesystem() -> None:
    from curation.io.shards import filesystem_problem

    assert filesystem_problem("/tmp/x/*.jsonl") is None
    assert filesystem_problem("s3://bucket/x/*.jsonl") is None  # the [aws] extra is installed for tests
    gs = filesystem_problem("gs://bucket/x/*.jsonl")
    assert gs is None or "curation[gcp]" in gs
