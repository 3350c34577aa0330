"""Checkpoint paths reach the OS as bytes: names that are not UTF-8 stay distinct files."""
import os

import numpy as np

import swiftadam


def _trained(seed):
    w = np.zeros(5, np.float32)
    opt = swiftadam.Adam([w], lr=0.1)
    g = np.random.default_rng(seed).standard_normal(5).astype(np.float32)
    for _ in range(seed + 1):
        opt.step([g])
    return w, opt


def test_non_utf8_names_are_distinct_files(tmp_path):
    d = os.fsencode(tmp_path)
    a, b = d + b"/run_\xff.ckpt", d + b"/run_\xfe.ckpt"
    (wa, oa), (wb, ob) = _trained(1), _trained(2)
    oa.save(a)
    ob.save(b)
    assert sorted(os.listdir(d)) == [b"run_\xfe.ckpt", b"run_\xff.ckpt"]
    for path, opt, w in ((a, oa, wa), (b, ob, wb)):
        loaded = swiftadam.Adam.load(path, [np.zeros_like(w)])
        assert loaded.to_bytes() == opt.to_bytes()
        loaded.close()
    oa.close()
    ob.close()
