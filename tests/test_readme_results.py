"""readme_results: the README's results section is rebuilt from a report, and `--variants` adds a
variants report's section with its figure links pointing into that report."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _report(d: Path, body: str) -> Path:
    (d / "figures" / "variants").mkdir(parents=True)
    (d / "figures" / "variants" / "divergence_surface_cer.png").write_bytes(b"png")
    (d / "README.md").write_text(body, encoding="utf-8")
    (d / "tables.md").write_text("| a |\n", encoding="utf-8")
    return d


def _run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "dualasr.bin.readme_results", *args], cwd=cwd,
                          capture_output=True, text=True)


def _build(tmp_path: Path, demo: Path, *extra: str) -> str:
    """The README's results section built afresh from ``demo`` (and ``extra`` options); its new text."""
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- results:begin -->\nold\n<!-- results:end -->\n")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", *extra, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return readme.read_text()


def test_results_and_variants_sections(tmp_path):
    demo = _report(tmp_path / "exp" / "report", "# Report\n\n## 1. SO vs DO\n\n- demo sentence.\n")
    variants = _report(tmp_path / "docs" / "variants",
                       "# Report\n\n## 1. SO vs DO\n\n- other.\n\n## 5. Dual-output variants\n\n"
                       "- In en, do_hier (surface -0.10).\n\n![d](figures/variants/divergence_surface_cer.png)\n\n"
                       "## 6. Training curves\n\n- curves.\n")
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Results\n\n<!-- results:begin -->\nold\n<!-- results:end -->\n\n## After\n")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo",
               "--variants", "docs/variants", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    text = readme.read_text()
    assert "old" not in text and "- demo sentence." in text and text.endswith("## After\n")
    assert "### Dual-output variants" in text and "- In en, do_hier (surface -0.10)." in text
    assert "](docs/variants/figures/variants/divergence_surface_cer.png)" in text
    assert "curves" not in text  # only the variants section is taken
    assert (tmp_path / "docs" / "demo" / "tables.md").is_file()


def test_variants_without_section_is_an_error(tmp_path):
    demo = _report(tmp_path / "r", "# Report\n\n## 1. SO vs DO\n")
    other = _report(tmp_path / "v", "# Report\n\n## 1. SO vs DO\n")
    (tmp_path / "README.md").write_text("# x\n")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--variants", str(other),
               cwd=tmp_path)
    assert res.returncode != 0 and "no 'Dual-output variants' section" in res.stderr


ROB_HEADER = "lang,test set,output,metric,model,clean,noisy,reverb,noisy ÷ clean,reverb ÷ clean\n"


def test_augmented_section_sets_the_augmented_demo_beside_the_demo(tmp_path):
    """--augmented: each SO/DO CER row of the augmented report beside the demo's, and the targets counted
    from the numbers (noisy and reverb <= 2 x clean; clean no more than 0.5 above the plain model's)."""
    demo = _report(tmp_path / "exp" / "report", "# Report\n\n## 1. SO vs DO\n\n- demo sentence.\n")
    (demo / "robustness.csv").write_text(
        ROB_HEADER + "en,test_en,surface,cer,SO,3.00,40.00,36.00,13.33,12.00\n"
        "en,test_en,surface,cer,DO,3.20,40.00,36.00,12.50,11.25\n"
        "en,test_en,surface,cer,DO − SO,+0.20 (1 run),+0.00 (1 run),+0.00 (1 run),–,–\n"
        "en,test_en,surface,wer,SO,14.00,60.00,60.00,4.29,4.29\n", encoding="utf-8")
    aug = tmp_path / "docs" / "demo_aug"
    aug.mkdir(parents=True)
    (aug / "README.md").write_text("# Report\n", encoding="utf-8")
    (aug / "robustness.csv").write_text(
        ROB_HEADER + "en,test_en,surface,cer,SO,3.40,6.00,6.50,1.76,1.91\n"
        "en,test_en,surface,cer,DO,4.00,9.00,7.00,2.25,1.75\n", encoding="utf-8")
    rec = {"seed": 1, "purpose": "train", "rir_scp": "r.scp", "rir_apply_prob": 0.8, "noise_scp": "n.scp",
           "noise_apply_prob": 0.8, "noise_db_range": "5_20", "copies": 1, "keep_clean": True}
    (aug / "training_audio.json").write_text(json.dumps({"so_surface_en": rec, "do_en": rec}), encoding="utf-8")
    text = _build(tmp_path, demo, "--augmented", "docs/demo_aug")
    assert "### Training with noise and reverberation (`make demo-aug`" in text
    # how the audio was augmented: stage 2's record, in words
    assert ("(reverberation with probability 0.8 and noise with probability 0.8 at 5–20 dB SNR, one realisation "
            "of each utterance, beside the clean utterance)") in text
    assert "| en | surface | SO | 3.00 | 3.40 | +0.40 | 13.33 | 1.76 | 12.00 | 1.91 |" in text
    assert "| en | surface | DO | 3.20 | 4.00 | +0.80 | 12.50 | 2.25 | 11.25 | 1.75 |" in text
    assert "Noisy and reverb CER at most 2 × clean: 1 of 2 model outputs" in text
    assert "Clean CER at most 0.5 points above training without augmentation: 1 of 2." in text
    assert "| wer |" not in text and "14.00" not in text  # CER rows only
    assert (tmp_path / "docs" / "demo" / "robustness.csv").is_file()
    # --augmented_against: another plain report on the other side (the augmented run's machine)
    other = tmp_path / "docs" / "demo_rerun"
    other.mkdir(parents=True)
    (other / "robustness.csv").write_text(ROB_HEADER + "en,test_en,surface,cer,SO,3.30,40.00,36.00,12.12,10.91\n",
                                          encoding="utf-8")
    text = _build(tmp_path, demo, "--augmented", "docs/demo_aug", "--augmented_against", "docs/demo_rerun")
    assert "| en | surface | SO | 3.30 | 3.40 | +0.10 | 12.12 | 1.76 | 10.91 | 1.91 |" in text
    assert "| en | surface | DO |" not in text and "(docs/demo_rerun/README.md)" in text
    # a model of other training audio, or no record: refused by name
    (aug / "training_audio.json").write_text(json.dumps({"so_surface_en": rec, "do_en": None}), encoding="utf-8")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--augmented", "docs/demo_aug",
               cwd=tmp_path)
    assert res.returncode != 0 and "training_audio.json: the models were not all trained on one augmentation" in res.stderr
    (aug / "training_audio.json").unlink()
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--augmented", "docs/demo_aug",
               cwd=tmp_path)
    assert res.returncode != 0 and "docs/demo_aug/training_audio.json: missing" in res.stderr
    (aug / "training_audio.json").write_text(json.dumps({"so_surface_en": rec}), encoding="utf-8")
    (aug / "robustness.csv").unlink()
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--augmented", "docs/demo_aug",
               cwd=tmp_path)
    assert res.returncode != 0 and "docs/demo_aug/robustness.csv: missing" in res.stderr


MAIN_HEADER = "lang,output,metric,SO,DO,DO − SO\n"


def _main_csv(d: Path, rows: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "main.csv").write_text(MAIN_HEADER + rows, encoding="utf-8")


def test_rerun_section_sets_two_runs_side_by_side(tmp_path):
    demo = _report(tmp_path / "exp" / "report", "# Report\n\n## 1. SO vs DO\n\n- demo sentence.\n")
    _main_csv(demo, "ko,surface,cer,2.45,2.52,+0.07 (1 run)\nko,surface,cer_space,2.30,2.39,+0.09 (1 run)\n"
                    "en,meaning,cer,2.95,3.03,+0.08 (1 run)\n")
    rerun = tmp_path / "docs" / "demo_rerun"
    _main_csv(rerun, "ko,surface,cer,2.82,2.78,-0.04 (1 run)\nen,meaning,cer,3.47,3.12,-0.35 (1 run)\n")
    text = _build(tmp_path, demo, "--rerun", "docs/demo_rerun")
    assert "| ko | surface | 2.45 | 2.82 | 2.52 | 2.78 | +0.07 | -0.04 |" in text
    assert "| en | meaning | 2.95 | 3.47 | 3.03 | 3.12 | +0.08 | -0.35 |" in text
    assert "moved by up to 0.52 points and a DO − SO difference by up to 0.43; 2 of 2 differences changed sign" in text
    assert "2.30" not in text  # CER rows only
    (rerun / "main.csv").write_text(MAIN_HEADER + "ko,surface,cer,n/a,2.78,-0.04\n", encoding="utf-8")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--rerun", "docs/demo_rerun",
               cwd=tmp_path)
    assert res.returncode != 0 and "docs/demo_rerun/main.csv:2: expected numbers" in res.stderr


def test_sections_rewrites_only_the_named_sections_and_the_first_line(tmp_path):
    demo = _report(tmp_path / "exp" / "report", "# Report\n\n## 1. SO vs DO\n\n- demo sentence.\n")
    _main_csv(demo, "en,surface,cer,1.64,1.81,+0.17 (1 run)\n")
    variants = _report(tmp_path / "docs" / "variants",
                       "# Report\n\n## 5. Dual-output variants\n\n- first variants.\n")
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- results:begin -->\nold\n<!-- results:end -->\n\n## After\n")
    assert _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--variants",
                "docs/variants", "--note", "run A", cwd=tmp_path).returncode == 0
    assert (tmp_path / "docs" / "demo" / "README.md").read_text() == (demo / "README.md").read_text()
    # the demo's exp/ is gone; a later variants run and a rerun replace their sections only
    (demo / "README.md").write_text("# Report\n\n## 1. SO vs DO\n\n- another run's sentence.\n")
    (variants / "README.md").write_text("# Report\n\n## 5. Dual-output variants\n\n- second variants.\n")
    _main_csv(tmp_path / "rerun", "en,surface,cer,1.76,1.69,-0.07 (1 run)\n")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--variants",
               "docs/variants", "--rerun", "rerun", "--sections", "variants", "rerun", "--note", "run A; variants B",
               cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    text = readme.read_text()
    assert "- demo sentence." in text and "another run's sentence" not in text
    assert "- second variants." in text and "first variants" not in text
    assert "| en | surface | 1.64 | 1.76 | 1.81 | 1.69 | +0.17 | -0.07 |" in text
    assert "; run A; variants B. All tables: [docs/demo/tables.md](docs/demo/tables.md)._" in text
    assert "run A. All" not in text and text.endswith("<!-- results:end -->\n\n## After\n")
    assert text.index("second variants") < text.index("run twice")
    # once more: the sections are replaced, not appended again
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--variants",
               "docs/variants", "--rerun", "rerun", "--sections", "variants", "rerun", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert readme.read_text() == text
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--sections", "rerun",
               cwd=tmp_path)
    assert res.returncode != 0 and "--sections rerun: give --rerun DIR" in res.stderr
    # the whole section rebuilt from the copy in docs/demo (no exp/)
    res = _run("--report", "docs/demo", "--readme", "README.md", "--figures", "docs/demo", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "- demo sentence." in readme.read_text() and (tmp_path / "docs" / "demo" / "main.csv").is_file()
