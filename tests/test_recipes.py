"""The real-corpus recipes egs/<corpus>/asr1 and dualasr.bin.subset_data_dir.

Each recipe runs in a copy of its dir under tmp_path (absolute links to the repo's template files
and utils; run.sh, db.sh, local/ and conf/ copied), against the tiny fixture its
tests/test_local_<corpus>.py builds, with the corpus variable of db.sh set in the environment.
The last test runs speechocean762 end to end (stages 1-9) on the real 320-utterance subset.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dualasr.data.datadir import Utterance, read_data_dir, write_data_dir
from dualasr.data.validate import validate_data_dir
from localprep_utils import ROOT, lines, tone
import test_local_aihub_l2en
import test_local_aihub_l2ko
import test_local_ksponspeech
import test_local_l2arctic
import test_local_speechocean762

# the real 320-utterance subset: ../shared beside the repo (as in CI), else the team's /work/shared
MINI = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "data" / "speechocean762-mini",
                         Path("/work/shared/data/speechocean762-mini")) if p.is_dir()),
            Path("/work/shared/data/speechocean762-mini"))
LINKS = {"dual_asr.sh": "../../TEMPLATE/asr1/dual_asr.sh", "cmd.sh": "../../TEMPLATE/asr1/cmd.sh",
         "path.sh": "../../TEMPLATE/asr1/path.sh", "utils": "../../../utils"}


def speechocean_corpus(root: Path) -> Path:
    """The speechocean762 fixture plus a second train speaker (0003): a speaker-disjoint dev set
    needs at least two train speakers."""
    root = test_local_speechocean762.make_corpus(root, scores=True)
    uid, rel = "000030001", "WAVE/SPEAKER0003/000030001.WAV"
    tone(root / rel)
    for name, value in (("wav.scp", rel), ("text", "THE BATH"), ("utt2spk", "0003")):
        with open(root / "train" / name, "a", encoding="utf-8") as f:
            f.write(f"{uid}\t{value}\n")
    with open(root / "resource" / "text-phone", "a", encoding="utf-8") as f:
        f.write(f"{uid}.0\tDH_B AH0_E\n{uid}.1\tB_B AE0_I TH_E\n")
    scores = json.loads((root / "resource" / "scores.json").read_text())
    scores[uid] = scores["000020001"]
    (root / "resource" / "scores.json").write_text(json.dumps(scores))
    return root


# corpus -> (db.sh variable, fixture builder, run.sh options, {data set: utterance count})
RECIPES = {
    "aihub_l2ko": ("AIHUB_L2KO", test_local_aihub_l2ko.make_corpus, [], {"train": 3, "dev": 1, "test": 1}),
    "aihub_l2en": ("AIHUB_L2EN", test_local_aihub_l2en.make_corpus, [], {"train": 2, "dev": 1, "test": 1}),
    "ksponspeech": ("KSPONSPEECH", test_local_ksponspeech.make_corpus, [],
                    {"train": 2, "dev": 1, "test_clean": 1, "test_other": 1}),
    "l2arctic": ("L2ARCTIC", test_local_l2arctic.make_corpus, [], {"train": 6, "dev": 3, "test": 3}),
    "speechocean762": ("SPEECHOCEAN762", speechocean_corpus, [],
                       {"train": 3, "train_nodev": 2, "dev": 1, "test": 1}),
}
CORPUS_VARS = [v for v, *_ in RECIPES.values()]


def recipe_copy(corpus: str, dst: Path) -> Path:
    """Copy egs/<corpus>/asr1 to ``dst``: absolute links to the repo's shared files, own files copied."""
    src = ROOT / "egs" / corpus / "asr1"
    dst.mkdir(parents=True)
    for name in LINKS:
        os.symlink(os.path.realpath(src / name), dst / name)
    for name in ("run.sh", "db.sh"):
        shutil.copy2(src / name, dst / name)
    for name in ("local", "conf"):
        shutil.copytree(src / name, dst / name)
    return dst


def run_recipe(recipe: Path, env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``./run.sh ARGS`` in ``recipe`` with no corpus variable set except those in ``env``."""
    full = {k: v for k, v in os.environ.items() if k not in CORPUS_VARS}
    full.update(env)
    return subprocess.run(["./run.sh", *args], cwd=recipe, env=full, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("corpus", sorted(RECIPES))
def test_recipe_layout(corpus):
    """Links as in egs/mini_l2/asr1, executable scripts, conf/ kept, db.sh lets the environment win."""
    d = ROOT / "egs" / corpus / "asr1"
    for name, target in LINKS.items():
        assert os.readlink(d / name) == target and (d / name).exists(), name
    assert os.access(d / "run.sh", os.X_OK) and os.access(d / "local" / "data.sh", os.X_OK)
    assert (d / "conf" / ".gitkeep").is_file()
    var = RECIPES[corpus][0]
    show = f'. ./db.sh; echo "[${var}]"'
    env = {k: v for k, v in os.environ.items() if k not in CORPUS_VARS}
    assert subprocess.run(["bash", "-c", show], cwd=d, env=env, capture_output=True, text=True).stdout == "[]\n"
    env[var] = "/some/where"
    assert subprocess.run(["bash", "-c", show], cwd=d, env=env, capture_output=True,
                          text=True).stdout == "[/some/where]\n"


@pytest.mark.parametrize("corpus", sorted(RECIPES))
def test_stage1_on_fixture(tmp_path, corpus):
    var, build, args, sizes = RECIPES[corpus]
    fixture = build(tmp_path / "corpus")
    recipe = recipe_copy(corpus, tmp_path / "recipe")
    r = run_recipe(recipe, {var: str(fixture)}, "--stop_stage", "1", *args)
    assert r.returncode == 0, r.stderr
    assert (recipe / "data" / ".done" / "prep").is_file()
    for name, n in sizes.items():
        report = validate_data_dir(recipe / "data" / name, sample_rate=16000)
        assert report.ok, report.errors
        assert report.n_utts == n, name
    # every data dir was validated in stage 1 (the validator prints one OK line per dir)
    validated = [l.split(":")[0] for l in r.stdout.splitlines() if ": OK, " in l]
    assert sorted(validated) == sorted(f"data/{s}" for s in sizes)


def test_speechocean762_dev_split_is_speaker_disjoint(tmp_path):
    fixture = speechocean_corpus(tmp_path / "corpus")
    recipe = recipe_copy("speechocean762", tmp_path / "recipe")
    r = run_recipe(recipe, {"SPEECHOCEAN762": str(fixture)}, "--stop_stage", "1")
    assert r.returncode == 0, r.stderr
    d = recipe / "data"
    train, nodev, dev = (read_data_dir(d / s) for s in ("train", "train_nodev", "dev"))
    assert sorted(nodev + dev, key=lambda u: u.uttid) == train
    assert not {u.spk for u in nodev} & {u.spk for u in dev}
    assert [u.spk for u in dev] == ["0003"]   # one speaker of two, drawn with seed 0


def test_l2arctic_split_korean_via_local_data_opts(tmp_path):
    fixture = test_local_l2arctic.make_corpus(tmp_path / "corpus", speakers=("ABA", "HJK", "HKK", "NJS", "YDCK", "YKWK"))
    recipe = recipe_copy("l2arctic", tmp_path / "recipe")
    spks = {}
    for split in ("standard", "korean"):
        r = run_recipe(recipe, {"L2ARCTIC": str(fixture)}, "--stop_stage", "1", "--force", "true",
                       *(["--local_data_opts", "--split korean"] if split == "korean" else []))
        assert r.returncode == 0, r.stderr
        spks[split] = {s: [l.split()[0] for l in lines(recipe / "data" / s / "spk2utt")] for s in ("train", "dev", "test")}
    assert spks["standard"] == {"train": ["ABA", "HJK", "HKK"], "dev": ["YDCK"], "test": ["NJS", "YKWK"]}
    assert spks["korean"] == {"train": ["HJK", "HKK"], "dev": ["YDCK"], "test": ["YKWK"]}


def test_aihub_l2en_recipe_conf_overrides_field_adapter(tmp_path):
    fixture = test_local_aihub_l2en.make_corpus(tmp_path / "corpus")

    def k01_surface(recipe: Path) -> str:
        r = run_recipe(recipe, {"AIHUB_L2EN": str(fixture)}, "--stop_stage", "1")
        assert r.returncode == 0, r.stderr
        rows = lines(recipe / "data" / "train" / "text.surface") + lines(recipe / "data" / "test" / "text.surface")
        return dict(l.split(" ", 1) for l in rows)["K01-K01_0001"]

    assert k01_surface(recipe_copy("aihub_l2en", tmp_path / "plain")) != "i sink so"   # the repo's adapter
    recipe = recipe_copy("aihub_l2en", tmp_path / "own")
    default = (ROOT / "conf" / "aihub_l2en_fields.yaml").read_text()
    assert "strip: []" in default
    (recipe / "conf" / "aihub_l2en_fields.yaml").write_text(default.replace("strip: []", "strip: ['</?sub>']"))
    assert k01_surface(recipe) == "i sink so"


@pytest.mark.parametrize("corpus", sorted(RECIPES))
@pytest.mark.parametrize("how", ["unset", "missing"])
def test_corpus_variable_unset_or_missing(tmp_path, corpus, how):
    var = RECIPES[corpus][0]
    recipe = recipe_copy(corpus, tmp_path / "recipe")
    env = {} if how == "unset" else {var: str(tmp_path / "nope")}
    r = run_recipe(recipe, env, "--stop_stage", "1", timeout=60)
    assert r.returncode != 0
    errors = [l for l in r.stderr.splitlines() if "error" in l.lower()]
    assert len(errors) == 1 and errors == r.stderr.splitlines()[-1:], r.stderr
    assert errors[0].startswith("local/data.sh: error: ") and var in errors[0]
    assert ("is not set" if how == "unset" else f"{tmp_path / 'nope'}: no such directory") in errors[0]
    assert not (recipe / "data").exists()


# ------------------------------------------------------------------- dualasr.bin.subset_data_dir

def subset(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dualasr.bin.subset_data_dir", *args],
                          capture_output=True, text=True)


def small_dir(path: Path, speakers=("s1", "s2", "s3", "s4")) -> list:
    utts = [Utterance(f"{s}-u{i}", f"/x/{s}_{i}.wav", s, f"sur {i}", f"mea {i}") for s in speakers for i in (1, 2)]
    write_data_dir(path, utts)
    return utts


def test_subset_data_dir_splits_by_speaker(tmp_path):
    utts = small_dir(tmp_path / "src")
    args = ["--src", str(tmp_path / "src"), "--spk_frac", "0.5", "--seed", "3"]
    r = subset(*args, "--dst_a", str(tmp_path / "a"), "--dst_b", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    a, b = read_data_dir(tmp_path / "a"), read_data_dir(tmp_path / "b")
    assert len({u.spk for u in b}) == 2 and len({u.spk for u in a}) == 2
    assert not {u.spk for u in a} & {u.spk for u in b}
    assert sorted(a + b, key=lambda u: u.uttid) == utts
    for d in ("a", "b"):
        assert validate_data_dir(tmp_path / d, check_audio=False).ok
    # same seed, same draw; the draw is a real random choice (other seeds give other splits)
    subset(*args, "--dst_a", str(tmp_path / "a2"), "--dst_b", str(tmp_path / "b2"))
    assert lines(tmp_path / "b2" / "spk2utt") == lines(tmp_path / "b" / "spk2utt")
    draws = set()
    for seed in range(8):
        subset("--src", str(tmp_path / "src"), "--spk_frac", "0.5", "--seed", str(seed),
               "--dst_a", str(tmp_path / "x"), "--dst_b", str(tmp_path / "y"))
        draws.add(tuple(lines(tmp_path / "y" / "spk2utt")))
    assert len(draws) > 1


def test_subset_data_dir_keeps_one_speaker_each_side(tmp_path):
    small_dir(tmp_path / "src", speakers=("s1", "s2"))
    for frac in ("0.01", "0.99"):
        r = subset("--src", str(tmp_path / "src"), "--dst_a", str(tmp_path / "a"), "--dst_b", str(tmp_path / "b"),
                   "--spk_frac", frac)
        assert r.returncode == 0, r.stderr
        assert len(lines(tmp_path / "a" / "spk2utt")) == 1 and len(lines(tmp_path / "b" / "spk2utt")) == 1


def test_subset_data_dir_errors_are_one_line(tmp_path):
    small_dir(tmp_path / "one", speakers=("s1",))
    out = ["--dst_a", str(tmp_path / "a"), "--dst_b", str(tmp_path / "b"), "--spk_frac", "0.1"]
    r = subset("--src", str(tmp_path / "one"), *out)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"subset_data_dir: error: {tmp_path / 'one'}: cannot split 1 speaker(s) "
                                     "into two speaker-disjoint sets"]
    r = subset("--src", str(tmp_path / "nope"), *out)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"subset_data_dir: error: {tmp_path / 'nope' / 'wav.scp'}: file not found"]
    small_dir(tmp_path / "bad")
    (tmp_path / "bad" / "text.meaning").write_text("s1-u1 mea 1\n")
    r = subset("--src", str(tmp_path / "bad"), *out)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1
    assert f"{tmp_path / 'bad'}: utterance s1-u2 is in wav.scp but not in" in r.stderr
    assert not (tmp_path / "a").exists()


# ----------------------------------------------------------------- the real subset, stages 1-9

@pytest.mark.slow
@pytest.mark.skipif(not MINI.is_dir(), reason=f"{MINI} (the real speechocean762 subset) is absent")
def test_speechocean762_mini_end_to_end(tmp_path):
    recipe = recipe_copy("speechocean762", tmp_path / "recipe")
    start = time.time()
    r = run_recipe(recipe, {"SPEECHOCEAN762": str(MINI)}, "--size", "tiny", "--nj", "2", "--stop_stage", "9",
                   timeout=1500)
    elapsed = time.time() - start
    print(f"speechocean762-mini, stages 1-9: {elapsed:.0f} s")
    assert r.returncode == 0, r.stderr[-3000:]
    d = recipe / "data"
    n = {s: len(lines(d / s / "wav.scp")) for s in ("train", "test", "train_nodev", "dev")}
    assert n["train"] == 240 and n["test"] == 80
    assert n["train_nodev"] + n["dev"] == 240 and n["dev"] == 20   # 1 of 12 speakers, 20 utterances each
    # phones are word tokens: one phone one token in the token list, and the filter counts phones
    phones = (recipe / "data" / "token_list" / "en" / "surface_word" / "tokens.txt").read_text().split()
    assert "AH" in phones and "A" not in phones and (recipe / "data" / "token_list" / "en" / "meaning_char").is_dir()
    assert "train_nodev: kept 220 of 220 utterances" in r.stderr
    assert lines(recipe / "dump" / "fbank" / "test" / "text.canonical") == lines(d / "test" / "text.canonical")
    rows = json.loads((recipe / "exp" / "results.json").read_text())
    expected = {("so_surface", "surface"), ("so_meaning", "meaning"), ("do", "surface"), ("do", "meaning"),
                ("do_branch", "surface"), ("do_branch", "meaning")}
    for model, output in expected:
        mine = [x for x in rows if (x["model"], x["output"], x["test_set"]) == (model, output, "test")
                and x["metric"] != "mdd"]
        assert {x["metric"] for x in mine} == ({"per"} if output == "surface" else {"cer", "wer"}), (model, output)
        for x in mine:
            assert x["lang"] == "en" and x["n"] == 80 and math.isfinite(x["value"]) and x["ref_len"] > 0, x
    assert {(x["model"], x["output"]) for x in rows} == expected
    # MDD: prompted (text.canonical = resource/text-phone) for every surface model, prompt-free
    # (the meaning hypothesis through the corpus lexicon) for the dual models
    mdd = {(x["model"], x["mode"]): x for x in rows if x["metric"] == "mdd"}
    assert set(mdd) == {("so_surface", "prompted"), ("do", "prompted"), ("do", "prompt-free"),
                        ("do_branch", "prompted"), ("do_branch", "prompt-free")}
    for x in mdd.values():
        assert x["n"] == 80 and x["TA"] + x["FR"] + x["FA"] + x["TR"] > 0, x
    # without scores.json the perceived phones are the canonical ones: nothing is mispronounced
    assert all(x["FA"] == x["TR"] == 0 for k, x in mdd.items() if k[1] == "prompted")
    table = (recipe / "exp" / "results.md").read_text()
    assert "| en | DO | prompt-free |" in table and "| en | SO | prompted |" in table
