from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from codeclab.lyra.__main__ import main
from codeclab.lyra.lyrafile import read_lyra
from codeclab.lyra.wav import read_wav

REPO_PYSRC = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "pysrc")


def run(*args) -> int:
    return main([str(a) for a in args])


def test_encode_decode_with_loss(tmp_path, testdata, lyra_dir, capsys):
    out = tmp_path / "s.lyra"
    assert run("encode", testdata / "sample1_32kHz.wav", out, "--bitrate", 6000,
               "--model-dir", lyra_dir, "--backend", "tflite") == 0
    stream = read_lyra(out)
    assert stream.bitrate == 6000 and len(stream.packets) == 172
    wav = tmp_path / "d.wav"
    assert run("decode", out, wav, "--sample-rate", 8000, "--loss", 0.2, "--burst", 2, "--seed", 3,
               "--model-dir", lyra_dir, "--backend", "tflite") == 0
    audio = read_wav(wav)
    assert audio.sample_rate == 8000 and audio.samples.size == 172 * 160
    text = capsys.readouterr().out
    assert "lost and concealed" in text and "0 lost" not in text
    assert run("score", testdata / "sample1_8kHz.wav", wav) == 0
    assert "STOI" in capsys.readouterr().out


@pytest.mark.parametrize("name,bitrate,message", [
    ("no_encoded_packet.lyra", 3200, "empty"),
    ("incomplete_encoded_packet.lyra", 6000, "incomplete"),
])
def test_upstream_bad_lyra_files(tmp_path, testdata, lyra_dir, capsys, name, bitrate, message):
    code = run("decode", testdata / name, tmp_path / "o.wav", "--bitrate", bitrate,
               "--model-dir", lyra_dir, "--backend", "tflite")
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()


def test_invalid_wav(tmp_path, testdata, lyra_dir, capsys):
    assert run("encode", testdata / "invalid.wav", tmp_path / "o.lyra", "--model-dir", lyra_dir) == 2
    assert "not a WAV file" in capsys.readouterr().err


def test_unsupported_rate(tmp_path, lyra_dir, capsys):
    from codeclab.lyra.wav import write_wav

    write_wav(tmp_path / "a.wav", np.zeros(4410, np.int16), 44100)
    assert run("encode", tmp_path / "a.wav", tmp_path / "o.lyra", "--model-dir", lyra_dir) == 2
    assert "44100 Hz is not supported" in capsys.readouterr().err


def test_missing_models_is_a_clear_error(tmp_path, testdata, capsys):
    assert run("encode", testdata / "sample1_16kHz.wav", tmp_path / "o.lyra", "--model-dir", tmp_path) == 2
    err = capsys.readouterr().err
    assert "Lyra models not found" in err and "build.py" in err


def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "codeclab.lyra", "--help"], capture_output=True, text=True,
                            env={"PYTHONPATH": REPO_PYSRC, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and "encode" in result.stdout and "decode" in result.stdout


def test_decode_a_file_whose_bitrate_changed(tmp_path, testdata, lyra_dir, capsys):
    """A stream encoded at 6 kbps, then 3.2 kbps: saved as runs, the CLI decodes it to the audio of
    decoding its packets one by one, and says both bitrates and the average."""
    from codeclab.lyra.decoder import LyraDecoder
    from codeclab.lyra.encoder import LyraEncoder
    from codeclab.lyra.lyrafile import write_lyra
    from codeclab.lyra.models import load_models

    samples = read_wav(testdata / "sample1_16kHz.wav").samples[:16000]
    models = load_models(lyra_dir, "tflite")
    encoder = LyraEncoder(16000, 6000, models.fresh())
    packets = encoder.encode_all(samples[:8000])
    encoder.set_bitrate(3200)
    packets += encoder.encode_all(samples[8000:])
    assert {len(p) for p in packets} == {8, 15}
    out = tmp_path / "mixed.lyra"
    write_lyra(out, packets)
    wav = tmp_path / "mixed.wav"
    assert run("decode", out, wav, "--model-dir", lyra_dir, "--backend", "tflite") == 0
    assert "mixed 3.2–6 kbps, 4.6 kbps average (1 bitrate change)" in capsys.readouterr().out
    expected = LyraDecoder(16000, models.fresh()).decode_packets(packets)
    assert np.array_equal(read_wav(wav).samples, expected)
