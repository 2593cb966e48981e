"""The benchmark's GPU mode, run on the CPU: ESPnet's length-bucketed batches, models of another
training config (conf/train_paper.yaml) built with the trained models' token lists, and the bf16
timings. The GPU numbers themselves come from ``make bench-gpu`` on a card (docs/bench/gpu_h100.txt)."""

from pathlib import Path

import pytest

from dualasr.bin import bench

REPO = Path(__file__).resolve().parents[1]


def write_set(tmp: Path, lengths):
    dump, shapes = tmp / "dump", tmp / "shapes"
    dump.mkdir()
    shapes.mkdir()
    ids = [f"u{i:03d}" for i in range(len(lengths))]
    (dump / "feats.scp").write_text("".join(f"{u} /dev/null\n" for u in ids))
    (shapes / "speech_shape").write_text("".join(f"{u} {n},80\n" for u, n in zip(ids, lengths)))
    for o in ("surface", "meaning"):
        (shapes / f"text_{o}_shape").write_text("".join(f"{u} {n // 10}\n" for u, n in zip(ids, lengths)))
    return dump, shapes, dict(zip(ids, lengths))


def test_bucketed_ids_whole_length_sorted_batches(tmp_path):
    lengths = [100 + (37 * i) % 200 for i in range(60)]
    dump, shapes, length = write_set(tmp_path, lengths)
    every = bench.bucketed_ids(dump, shapes, 200 * 80 * 8, 100)
    assert len(every) > 3
    seen = [u for b in every for u in b]
    assert len(seen) == len(set(seen))
    # drop_last: the sampler's last, smaller batch is left out, so fewer than all utterances
    assert len(seen) < len(lengths)
    # length-sorted buckets: each batch's utterances are no longer than the next batch's
    for a, b in zip(every, every[1:]):
        assert max(length[u] for u in a) <= min(length[u] for u in b)
    picked = bench.bucketed_ids(dump, shapes, 200 * 80 * 8, 2)
    assert picked == [every[0], every[-1]]


def test_bucketed_ids_missing_shape_file(tmp_path):
    dump, shapes, _ = write_set(tmp_path, [100, 120])
    (shapes / "text_meaning_shape").unlink()
    with pytest.raises(SystemExit, match="text_meaning_shape: missing"):
        bench.bucketed_ids(dump, shapes, 10**6, 1)


def test_train_config_models_bucketed_batches_and_bf16(mini_l2_tiny, capsys):
    """The GPU mode's training part on the tiny run's English models, at the paper's size, on the CPU."""
    rc = bench.main(["--recipe_dir", str(mini_l2_tiny), "--lang", "en", "--train_config",
                     str(REPO / "conf" / "train_paper.yaml"), "--batch_bins", "40000", "--train_batches", "2",
                     "--steps", "1", "--repeats", "1", "--bf16", "yes", "--no_decode", "--threads", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "training steps over 2 batches of batch_bins 40000" in out
    params = out.split("(SO ")[1]
    assert 25 <= float(params.split(" M")[0]) <= 35  # the paper config's SO size, not the tiny model's
    for prec in ("fp32", "bf16"):
        assert f"(a) [{prec}] DO train time" in out and f"[{prec}] training throughput" in out
    assert "bf16 / fp32 training throughput" in out and "(c)" not in out


@pytest.mark.parametrize("preencoder", [False, True], ids=["no_preencoder", "linear_preencoder"])
def test_espnet_twin_has_the_so_models_architecture(preencoder):
    """Ratio (b) compares an SO model with ESPnet's ASRTask model of the same architecture: the twin must
    get every part of it, ESPnet's pre-encoder included."""
    import torch

    from model_utils import build_args

    from dualasr.tasks.dual_asr import DualASRTask

    args = build_args(outputs=("surface",))
    if preencoder:
        args.preencoder, args.preencoder_conf = "linear", {"input_size": 20, "output_size": 12}
    torch.manual_seed(0)
    ours = DualASRTask.build_model(args)
    torch.manual_seed(0)
    twin = bench.build_espnet_twin(args, "surface")
    assert (twin.preencoder is not None) == preencoder
    shapes = sorted(tuple(p.shape) for p in ours.parameters())
    assert shapes == sorted(tuple(p.shape) for p in twin.parameters())
    # the same seed draws the same initial weights in both (ESPnet builds the pre-encoder where we do)
    renamed = {k.replace("decoders.surface.", "decoder.").replace("ctcs.surface.", "ctc."): v
               for k, v in ours.state_dict().items()}
    assert all(torch.equal(v, renamed[k]) for k, v in twin.state_dict().items() if k in renamed)


def test_decoding_part_prints_c_and_the_encoder_bound(mini_l2_tiny, capsys):
    """The decoding part on the tiny run's English models: (c), and the share of encoding that bounds it."""
    import re

    rc = bench.main(["--recipe_dir", str(mini_l2_tiny), "--lang", "en", "--no_train", "--decode_modes",
                     "joint_batch", "--decode_utts", "4", "--repeats", "1", "--threads", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert re.search(r"\(c\) \[joint_batch\] DO joint decode / both SO decodes: \d\.\d{3}", out)
    m = re.search(r"encoding is (\d\.\d\d) of both SO decodes \((\d+\.\d\d)s of (\d+\.\d\d)s\).*"
                  r"= 1 - \d\.\d\d / 2 = (\d\.\d{3})", out)
    assert m, out
    share, enc, so, bound = (float(x) for x in m.groups())
    # the seconds are printed to 0.01 s, and the tiny run's decodes take a fraction of a second: the
    # printed share may differ from the printed times' quotient by their rounding
    assert 0 <= enc <= so and 0 < share <= 1
    assert abs(share - enc / so) <= 0.006 + 0.005 * (1 + enc / so) / so
    assert abs(bound - (1 - share / 2)) < 0.006
