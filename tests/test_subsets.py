"""Speaker-balanced analysis subsets (layout.balanced_ids / load_subset) on a several-speaker fixture."""

from collections import Counter

import kaldiio
import numpy as np
import pytest

from dualasr.analysis.layout import balanced_ids, load_subset

# 4 speakers with 2, 3, 6 and 9 utterances; ids start with the speaker, as in real corpora
UTT2SPK = {f"{s}-{i:02d}": s for s, n in (("spkA", 2), ("spkB", 3), ("spkC", 6), ("spkD", 9)) for i in range(n)}


def test_round_robin_over_speakers():
    for n in (1, 4, 8, 11, 20, 50):
        ids = balanced_ids(UTT2SPK, n, seed=0)
        assert len(ids) == min(n, len(UTT2SPK)) and len(set(ids)) == len(ids)
        per = Counter(UTT2SPK[u] for u in ids)
        # no speaker gets a second utterance before every speaker with utterances left has one
        left = {s: sum(1 for v in UTT2SPK.values() if v == s) for s in set(UTT2SPK.values())}
        rounds = max(per.values())
        for s, k in left.items():
            assert per.get(s, 0) >= min(k, rounds - 1), (n, per)
    assert set(Counter(UTT2SPK[u] for u in balanced_ids(UTT2SPK, 4)).values()) == {1}
    # the first-N-ids choice would have taken spkA and spkB only
    assert len({UTT2SPK[u] for u in sorted(UTT2SPK)[:4]}) == 2


def test_fixed_seed_same_subset_other_seed_other_subset():
    assert balanced_ids(UTT2SPK, 8, seed=0) == balanced_ids(dict(reversed(list(UTT2SPK.items()))), 8, seed=0)
    assert any(balanced_ids(UTT2SPK, 8, seed=0) != balanced_ids(UTT2SPK, 8, seed=s) for s in (1, 2, 3))
    ids = balanced_ids(UTT2SPK, 8, seed=0)
    assert ids == sorted(ids)


def test_load_subset_reads_utt2spk(tmp_path):
    d = tmp_path / "test"
    d.mkdir()
    rng = np.random.default_rng(0)
    with kaldiio.WriteHelper(f"ark,scp:{d / 'feats.ark'},{d / 'feats.scp'}") as w:
        for u in sorted(UTT2SPK):
            w(u, rng.standard_normal((5, 3)).astype(np.float32))
    with pytest.raises(FileNotFoundError, match="utt2spk: missing"):
        load_subset(d / "feats.scp", 4)
    (d / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in UTT2SPK.items() if u != "spkD-08"))
    with pytest.raises(ValueError, match="no speaker for utterance spkD-08"):
        load_subset(d / "feats.scp", 4)
    (d / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in UTT2SPK.items()))
    got = load_subset(d / "feats.scp", 4)
    assert list(got) == balanced_ids(UTT2SPK, 4) and all(v.shape == (5, 3) for v in got.values())
