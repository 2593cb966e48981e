"""dualasr.bin.filter_data: the CTC length check counts tokens as the output's tokenizer makes them."""

import pytest

from dualasr.bin import filter_data
from dualasr.data.datadir import read_kaldi_map, write_kaldi_map


def test_phones_are_counted_as_tokens_not_letters(tmp_path):
    src = tmp_path / "org"
    src.mkdir()
    # 40 frames -> 10 after 4x subsampling. "AH0 B AW1 T TH" is 5 phones but 14 characters.
    write_kaldi_map(src / "feats_shape", [("u1", "40,80"), ("u2", "40,80")])
    write_kaldi_map(src / "text.surface", [("u1", "AH B AW T TH"), ("u2", "AH B AW T TH AH B AW T TH AH")])
    write_kaldi_map(src / "text.meaning", [("u1", "about"), ("u2", "about")])
    write_kaldi_map(src / "text.canonical", [("u1", "AH B AW T"), ("u2", "AH B AW T")])
    write_kaldi_map(src / "utt2spk", [("u1", "s"), ("u2", "s")])
    # as characters both are too long for 10 CTC steps: every utterance dropped
    with pytest.raises(SystemExit, match="every utterance was filtered out.*more tokens than frames"):
        filter_data.main(["--src", str(src), "--dst", str(tmp_path / "chars"), "--min_frames", "1"])
    # as phones (word tokens) u1 fits (5 <= 10) and u2 does not (11 > 10)
    filter_data.main(["--src", str(src), "--dst", str(tmp_path / "phones"), "--min_frames", "1",
                      "--surface_token_type", "word"])
    assert list(read_kaldi_map(tmp_path / "phones" / "utt2spk")) == ["u1"]
    assert read_kaldi_map(tmp_path / "phones" / "text.canonical") == {"u1": "AH B AW T"}
