"""The headless CLI end to end, on a model and CSV built here (not the sample)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT
from torch import nn

from core.data import read_table
from core.model import load_model, model_to_bytes, predict_pbad
from core.workspace import bind

pytestmark = pytest.mark.cli

OUTPUTS = ("report.html", "report.pdf", "report.docx", "deck.pptx", "pruned_model.pt", "pruned_model.onnx", "manifest.json")


def _cli(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    env.pop("RISKPRUNE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A schema-less MLP on 5 numeric columns and a CSV whose columns are not in model order."""
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame({
        "branch": rng.choice(["A", "B", "C"], n), "ltv": rng.normal(size=n), "income": rng.normal(size=n),
        "status": "", "dti": rng.normal(size=n), "age": rng.normal(size=n), "months": rng.normal(size=n),
    })
    logit = 1.2 * frame["dti"] - 0.8 * frame["income"] + 0.6 * frame["ltv"]
    frame["status"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "default", "paid")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1))
    X = torch.tensor(frame[["ltv", "income", "dti", "age", "months"]].to_numpy(np.float32))
    y = torch.tensor((frame["status"] == "default").to_numpy(np.float32))
    opt = torch.optim.Adam(net.parameters(), lr=0.03)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(net(X).squeeze(1), y).backward()
        opt.step()
    (d / "model.pt").write_bytes(model_to_bytes(torch.jit.script(net.eval())))
    frame.to_csv(d / "loans.csv", index=False)
    return d


def test_report_writes_all_files_with_manifest_hashes(files, tmp_path):
    from core.policy import Policy, default_policy

    out = tmp_path / "out"
    policy = default_policy().with_criterion("score_psi", threshold=0.2).with_criterion("min_air", enabled=False)
    (tmp_path / "policy.json").write_text(policy.to_json())
    res = _cli("report", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--target", "status",
               "--bad", "default", "--method", "neuron_l2", "--ratio", "0.5", "--out", str(out), "--seed", "3",
               "--sweep-ratios", "0,0.5", "--explain-rows", "60", "--explain-background", "20", "--bootstrap", "50",
               "--eval-mode", "holdout", "--fine-tune-epochs", "2", "--approval-rate", "0.7", "--policy", str(tmp_path / "policy.json"),
               "--stability-seeds", "3", "--grades", "0.2,0.4,0.6")
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""  # results go to files, progress to stderr
    assert "pruning" in res.stderr and "wrote" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # no temp files left behind
    manifest = json.loads((out / "manifest.json").read_text())
    for name in OUTPUTS[:-1]:
        assert manifest["outputs"][name]["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert manifest["inputs"]["model"]["sha256"] == hashlib.sha256((files / "model.pt").read_bytes()).hexdigest()
    assert manifest["inputs"]["data"]["sha256"] == hashlib.sha256((files / "loans.csv").read_bytes()).hexdigest()
    s = manifest["settings"]
    assert s["prune"] == {"method": "neuron_l2", "method_label": "Neurons by L2 norm (structured)", "ratio": 0.5, "overrides": {}, "seed": 3}
    assert s["fine_tune"]["epochs"] == 2 and s["fine_tune"]["seed"] == 3
    assert s["evaluation"]["mode"] == "holdout" and s["cutoff"]["approval_rate"] == 0.7
    assert s["inputs"] == ["ltv", "income", "dti", "age", "months"]  # default: numeric columns in file order
    assert manifest["seeds"]["bootstrap"] == 3 and manifest["seeds"]["explain"] == 3
    # the validation pack: the verdict under the policy file, seed stability over 3 seeds, the user's grades
    assert manifest["verdict"]["policy_key"] == Policy.from_json((tmp_path / "policy.json").read_text()).key
    assert manifest["policy"]["criteria"][[c.key for c in policy.criteria].index("score_psi")]["threshold"] == 0.2
    assert manifest["validation"]["seed_stability"]["seeds"] == [0, 1, 3] and manifest["seeds"]["stability"] == [0, 1, 3]
    assert manifest["validation"]["rank_ordering"]["pruned"]["source"] == "grades"
    assert "verdict:" in res.stderr
    # the exported model is the one the report describes: its AUC on the evaluation rows is the manifest's
    model = load_model((out / "pruned_model.pt").read_bytes(), "pruned_model.pt")
    ws = bind(load_model((files / "model.pt").read_bytes()), read_table((files / "loans.csv").read_bytes(), "loans.csv").frame,
              "status", "default", eval_mode="holdout")
    from core.metrics import auc

    assert auc(ws.y_eval, predict_pbad(model.module, ws.X_eval, ws.output.kind)) == manifest["results"]["auc_pruned"]
    html = (out / "report.html").read_text()
    assert f"{manifest['results']['auc_pruned']:.4f}" in html and "id='tradeoffs'" in html


def test_report_with_explicit_features_and_no_sweep(files, tmp_path):
    out = tmp_path / "o2"
    res = _cli("report", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--target", "status",
               "--bad", "default", "--method", "magnitude_layer", "--ratio", "0.3", "--out", str(out),
               "--features", "months,age,dti,income,ltv", "--no-sweep", "--explain-rows", "40", "--explain-background", "20",
               "--bootstrap", "20", "--quiet")
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == ""  # --quiet
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["inputs"] == ["months", "age", "dti", "income", "ltv"]
    assert manifest["settings"]["sweep"] is None and manifest["settings"]["state"] == "masked"
    assert "id='tradeoffs'" not in (out / "report.html").read_text()


BAD_INPUTS = [
    (["--target", "status", "--bad", "late", "--method", "random", "--ratio", "0.5"], "'late' does not occur"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "1.5"], "outside"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "0.5", "--features", "ltv,salary"], "salary"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "0.5", "--features", "ltv,income"], "5 inputs"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "0.5", "--fine-tune-epochs", "2",
      "--eval-mode", "all"], "holdout"),
    (["--target", "status", "--bad", "default", "--method", "prune_everything", "--ratio", "0.5"], "invalid choice"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "0.5", "--cutoff", "0.3",
      "--approval-rate", "0.5"], "not allowed with"),
    (["--bad", "default", "--method", "random", "--ratio", "0.5"], "--target"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "0.5", "--policy", "no_such_policy.json"],
     "policy file"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "0.5", "--grades", "0.1,1.5"], "between 0 and 1"),
    (["--target", "status", "--bad", "default", "--method", "random", "--ratio", "0.5", "--stability-seeds", "1"], "seeds"),
]


@pytest.mark.parametrize("args,needle", [BAD_INPUTS[0], BAD_INPUTS[5]])
def test_bad_input_exits_non_zero_with_one_line_reason(files, tmp_path, args, needle):
    out = tmp_path / "bad"
    res = _cli("report", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--out", str(out), "--quiet", *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert needle in lines[0]
    assert not out.exists()  # nothing half-written


@pytest.mark.parametrize("args,needle", BAD_INPUTS)
def test_every_bad_input_gets_one_line_reason_in_process(files, tmp_path, capsys, args, needle):
    """Same entry point without a subprocess per case (fast); argparse exits via SystemExit."""
    from core.cli import main

    out = tmp_path / "bad"
    argv = ["report", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--out", str(out), "--quiet", *args]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0]
    assert not out.exists()


def test_missing_and_pickled_model_are_refused(files, tmp_path):
    res = _cli("report", "--model", str(tmp_path / "none.pt"), "--data", str(files / "loans.csv"), "--target", "status",
               "--bad", "default", "--method", "random", "--ratio", "0.5", "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "does not exist" in res.stderr and "Traceback" not in res.stderr
    torch.save(nn.Linear(5, 1), tmp_path / "pickled.pt")
    res = _cli("sweep", "--model", str(tmp_path / "pickled.pt"), "--data", str(files / "loans.csv"), "--target", "status",
               "--bad", "default", "--out", str(tmp_path / "s.csv"), "--quiet")
    assert res.returncode == 2 and "pickle" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_sweep_writes_csv(files, tmp_path):
    out = tmp_path / "sweep.csv"
    res = _cli("sweep", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--target", "status",
               "--bad", "default", "--out", str(out), "--methods", "magnitude_layer,neuron_l1,input_features",
               "--ratios", "0,0.5,0.9", "--cutoff", "0.4")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out)
    assert len(table) == 9 and set(table["method"]) == {"magnitude_layer", "neuron_l1", "input_features"}
    assert {"auc", "ks", "nonzeros", "file_bytes", "flips", "psi", "pareto"} <= set(table.columns)
    assert (table["cutoff"] == 0.4).all()
    base = table[table["ratio"] == 0]
    assert np.allclose(base["auc"], base["auc"].iloc[0])  # ratio 0 of every method is the original
    assert "sweep" in res.stderr and "wrote" in res.stderr
    # the same sweep on two local worker processes: the same table (file bytes are the canonical export's, so equal too)
    pooled = tmp_path / "sweep_pool.csv"
    res = _cli("sweep", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--target", "status",
               "--bad", "default", "--out", str(pooled), "--methods", "magnitude_layer,neuron_l1,input_features",
               "--ratios", "0,0.5,0.9", "--cutoff", "0.4", "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert "on process pool, 2 workers" in res.stderr, res.stderr
    pd.testing.assert_frame_equal(pd.read_csv(pooled), table)


def test_help_documents_every_option():
    res = _cli("report", "--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    for opt in ("--model", "--data", "--target", "--bad", "--method", "--ratio", "--out", "--seed", "--features",
                "--eval-mode", "--cutoff", "--approval-rate", "--fine-tune-epochs", "--no-sweep", "--explain-rows"):
        assert opt in text
    assert "numeric columns" in text and "Exit codes" in text

    from core.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    sweep_help = " ".join(sub["sweep"].format_help().split())
    assert "--methods" in sweep_help and "--ratios" in sweep_help and "--features" in sweep_help
    top = parser.format_help()
    assert "report" in top and "sweep" in top
    for p in sub.values():  # every option has a help text
        assert all(a.help for a in p._actions), [a.dest for a in p._actions if not a.help]


def _run_main(argv, capsys) -> tuple[int, str]:
    from core.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_default_inputs_skip_identifier_columns_like_the_dashboard(files, tmp_path, capsys):
    frame = pd.read_csv(files / "loans.csv")
    frame.insert(0, "ID", np.arange(10_000, 10_000 + len(frame)))  # unique whole numbers named like an id
    frame.to_csv(tmp_path / "with_id.csv", index=False)
    code, err = _run_main(["sweep", "--model", str(files / "model.pt"), "--data", str(tmp_path / "with_id.csv"), "--target", "status",
                           "--bad", "default", "--out", str(tmp_path / "s.csv"), "--methods", "magnitude_layer", "--ratios", "0,0.5"],
                          capsys)
    assert code == 0, err
    assert "identifier column(s) not fed to the model: ID" in err
    assert "mapping 5 column(s) to its 5 inputs" in err


def test_features_take_csv_quoting_or_a_file_for_names_with_commas(files, tmp_path, capsys):
    frame = pd.read_csv(files / "loans.csv").rename(columns={"income": "income, net"})
    frame.to_csv(tmp_path / "commas.csv", index=False)
    common = ["sweep", "--model", str(files / "model.pt"), "--data", str(tmp_path / "commas.csv"), "--target", "status",
              "--bad", "default", "--methods", "magnitude_layer", "--ratios", "0"]
    code, err = _run_main([*common, "--out", str(tmp_path / "a.csv"), "--features", 'ltv,"income, net",dti,age,months'], capsys)
    assert code == 0, err
    (tmp_path / "cols.txt").write_text("ltv\nincome, net\ndti\nage\nmonths\n", encoding="utf-8")
    # one name per line: a line is read as a CSV row, so an unquoted comma would split "income, net" in two
    code, err = _run_main([*common, "--out", str(tmp_path / "b.csv"), "--features-file", str(tmp_path / "cols.txt")], capsys)
    assert code == 2 and "'income'" in err
    (tmp_path / "cols.txt").write_text('ltv\n"income, net"\ndti\nage\nmonths\n', encoding="utf-8")
    code, err = _run_main([*common, "--out", str(tmp_path / "b.csv"), "--features-file", str(tmp_path / "cols.txt")], capsys)
    assert code == 0, err
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert a["auc"].iloc[0] == b["auc"].iloc[0]
    code, err = _run_main([*common, "--out", str(tmp_path / "c.csv"), "--features", "ltv,income,dti,age,months"], capsys)
    assert code == 2 and "'income'" in err  # the name without its comma is not a column


def test_recommend_writes_the_winner_candidates_and_why_each_method_stopped(files, tmp_path, capsys):
    out = tmp_path / "rec"
    argv = ["recommend", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--target", "status",
            "--bad", "default", "--out", str(out), "--size-axis", "parameters"]
    code, err = _run_main(argv, capsys)
    assert code in (0, 4), err
    candidates = pd.read_csv(out / "candidates.csv")
    methods = pd.read_csv(out / "methods.csv")
    record = json.loads((out / "recommendation.json").read_text())
    assert {"method", "ratio", "acceptable", "blocking_label"} <= set(candidates.columns)
    assert set(methods["method"]) == set(candidates["method"].dropna())
    assert record["policy"]["name"] and "recommendation" in record
    if code == 0:  # a model passes: it is written with its report, and it is the smallest passing candidate
        winner = record["recommendation"]["winner"]
        passing = candidates[candidates["acceptable"] & candidates["method"].notna()]
        assert winner["size"] == passing["parameters"].min()
        assert (out / "pruned_model.pt").exists() and (out / "report.html").exists()
    else:
        assert "no acceptable model" in err and methods["blocked_by"].notna().any()


def test_recommend_refuses_a_bad_policy_file_in_one_line(files, tmp_path, capsys):
    (tmp_path / "p.json").write_text('{"criteria": [{"key": "score_psi", "threshold": "high"}]}', encoding="utf-8")
    code, err = _run_main(["recommend", "--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--target", "status",
                           "--bad", "default", "--out", str(tmp_path / "o"), "--policy", str(tmp_path / "p.json"), "--quiet"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "threshold" in err


def test_sweep_and_report_apply_the_chosen_score_alignment(files, tmp_path, capsys):
    common = ["--model", str(files / "model.pt"), "--data", str(files / "loans.csv"), "--target", "status", "--bad", "default",
              "--eval-mode", "holdout", "--align", "to-original"]
    code, err = _run_main(["sweep", *common, "--out", str(tmp_path / "s.csv"), "--methods", "neuron_l1", "--ratios", "0.3,0.6"], capsys)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "s.csv")
    assert {"psi", "psi_unaligned"} <= set(table.columns)
    assert (table["psi"] <= table["psi_unaligned"] + 1e-9).all()  # re-anchoring the scale lowers the shift
    code, err = _run_main(["report", *common, "--method", "neuron_l1", "--ratio", "0.6", "--no-sweep", "--explain-rows", "40",
                           "--explain-background", "20", "--bootstrap", "20", "--no-governance", "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["settings"]["alignment"]["spec"]["method"] == "to_original"
    reloaded = load_model((tmp_path / "r" / "pruned_model.pt").read_bytes(), "p.pt")
    assert "AlignedModel" in str(reloaded.scripted.original_name)  # the exported model carries its map


# --------------------------------------------------------------------------- dirty books and evaluation rows

LIGHT = ["--method", "magnitude_layer", "--ratio", "0.3", "--no-sweep", "--explain-rows", "0", "--bootstrap", "0",
         "--no-governance"]


def _light_report(files, data, tmp_path, capsys, *extra) -> tuple[int, str, dict | None]:
    out = tmp_path / "light"
    code, err = _run_main(["report", "--model", str(files / "model.pt"), "--data", str(data), "--bad", "default",
                           "--out", str(out), *LIGHT, *extra], capsys)
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else None
    return code, err, manifest


def test_missing_values_stop_with_one_line_naming_the_flag_and_the_choice_is_recorded(files, tmp_path, capsys):
    frame = pd.read_csv(files / "loans.csv")
    frame.loc[[3, 40], "ltv"] = np.nan
    frame.loc[7, "dti"] = np.inf
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    code, err, _ = _light_report(files, tmp_path / "gaps.csv", tmp_path, capsys, "--target", "status")
    last = err.strip().splitlines()[-1]  # progress lines before it; the error is one line
    assert code == 2 and last.startswith("error: 3 row(s) have missing or infinite inputs")
    assert "--missing drop, --missing impute or --missing pass-through" in last
    code, err, manifest = _light_report(files, tmp_path / "gaps.csv", tmp_path, capsys, "--target", "status", "--missing", "drop")
    assert code == 0, err
    record = manifest["settings"]["missing_values"]
    assert record["strategy"] == "drop" and record["rows_used"] == 297 and record["dropped_rows"] == [3, 7, 40]
    assert "missing values: 3 of 300 row(s)" in err
    assert "Chosen: drop them" in (tmp_path / "light" / "report.html").read_text()


def test_target_names_are_forgiving_and_a_misspelt_one_lists_the_closest(files, tmp_path, capsys):
    code, err, manifest = _light_report(files, files / "loans.csv", tmp_path, capsys, "--target", " status ")
    assert code == 0, err and manifest["settings"]["target"] == "status"
    code, err, _ = _light_report(files, files / "loans.csv", tmp_path, capsys, "--target", "stauts")
    assert code == 2 and "no target column 'stauts'" in err and "Closest: status" in err and "All 7 columns" in err
    code, err, _ = _light_report(files, files / "loans.csv", tmp_path, capsys, "--target", "status", "--segments", "brnch")
    assert code == 2 and "no segment column 'brnch'" in err and "Closest: branch" in err


def test_a_split_column_picks_the_evaluation_rows_and_all_rows_warn(files, tmp_path, capsys):
    frame = pd.read_csv(files / "loans.csv")
    frame["sample"] = np.where(np.arange(len(frame)) % 3 == 0, "test", "train")
    frame.to_csv(tmp_path / "split.csv", index=False)
    code, err, manifest = _light_report(files, tmp_path / "split.csv", tmp_path, capsys, "--target", "status",
                                        "--eval-mode", "split-column", "--split-column", "sample", "--eval-value", "test")
    assert code == 0, err
    ev = manifest["settings"]["evaluation"]
    assert ev["mode"] == "split_column" and ev["rows"] == 100 and ev["train_rows"] == 200 and ev["warning"] is None
    assert ev["choice"]["column"] == "sample" and ev["choice"]["value"] == "test"
    assert "warning:" not in err
    code, err, manifest = _light_report(files, files / "loans.csv", tmp_path, capsys, "--target", "status")
    assert code == 0, err  # 300 rows: too few for a default hold-out, so all rows, with the warning
    assert manifest["settings"]["evaluation"]["mode"] == "all"
    assert "warning: Evaluated on all 300 rows" in err and manifest["settings"]["evaluation"]["warning"].startswith("Evaluated on all")


def test_a_separate_evaluation_file_evaluates_and_the_data_file_trains(files, tmp_path, capsys):
    later = pd.read_csv(files / "loans.csv").sample(120, random_state=4)
    later.to_csv(tmp_path / "later.csv", index=False)
    code, err, manifest = _light_report(files, files / "loans.csv", tmp_path, capsys, "--target", "status",
                                        "--eval-data", str(tmp_path / "later.csv"), "--fine-tune-epochs", "1")
    assert code == 0, err
    ev = manifest["settings"]["evaluation"]
    assert ev["mode"] == "separate_file" and ev["rows"] == 120 and ev["train_rows"] == 300
    assert ev["choice"]["file_sha256"] == hashlib.sha256((tmp_path / "later.csv").read_bytes()).hexdigest()
    assert manifest["settings"]["fine_tune"]["rows"] == 300


def test_a_target_with_three_outcomes_needs_bad_vs_rest(files, tmp_path, capsys):
    frame = pd.read_csv(files / "loans.csv")
    frame.loc[frame.index % 10 == 0, "status"] = "late"
    frame.to_csv(tmp_path / "three.csv", index=False)
    code, err, _ = _light_report(files, tmp_path / "three.csv", tmp_path, capsys, "--target", "status")
    assert code == 2 and "must have exactly two outcomes" in err
    code, err, manifest = _light_report(files, tmp_path / "three.csv", tmp_path, capsys, "--target", "status", "--bad-vs-rest")
    assert code == 0, err and manifest["settings"]["one_vs_rest"] is True


EVAL_FLAG_MISTAKES = [
    (["--eval-mode", "split-column"], "--split-column COL"),
    (["--eval-mode", "holdout", "--split-column", "branch"], "apply to --eval-mode split-column"),
    (["--eval-mode", "all", "--eval-data", "x.csv"], "--eval-mode separate-file"),
    (["--eval-mode", "separate-file"], "--eval-data E.csv"),
    (["--split-column", "branch"], "Which value of the split column 'branch'"),
]


@pytest.mark.parametrize("args,needle", EVAL_FLAG_MISTAKES)
def test_evaluation_row_flags_that_cannot_work_get_one_line(files, tmp_path, capsys, args, needle):
    code, err, manifest = _light_report(files, files / "loans.csv", tmp_path, capsys, "--target", "status", *args)
    lines = err.strip().splitlines()
    assert code == 2 and manifest is None
    assert lines[-1].startswith("error: ") and needle in lines[-1], err
