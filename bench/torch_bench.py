"""PyTorch reference timings for bench/bench.c (run by it with /usr/bin/python3).

usage: torch_bench.py PAYLOAD ROWS COLS DIR RUNS MCF_PT|-

PAYLOAD holds ROWS*COLS float32 values, the same bytes the C bench saves.
Prints "key value" lines: torch_version, save_best, load_best,
load_mmap_best (seconds, best of RUNS) and, when MCF_PT names the .pt file
mcf_save wrote, mcf_pt_equal 1|0 (torch.load(weights_only=True) of it equals
the tensor). Prints "skip REASON" when torch cannot be imported.
"""
import os
import sys
import time

def main():
    payload, rows, cols, workdir, runs, mcf_pt = sys.argv[1:7]
    rows, cols, runs = int(rows), int(cols), int(runs)
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means "no torch here"
        print("skip torch is not importable in %s: %s" % (sys.executable, e))
        return 0
    print("torch_version", torch.__version__)
    t = torch.from_file(payload, shared=False, size=rows * cols, dtype=torch.float32).reshape(rows, cols)
    obj = {"weight": t}
    path = os.path.join(workdir, "pytorch.pt")

    try:
        best_save = float("inf")
        for _ in range(runs):
            if os.path.exists(path):
                os.remove(path)
            t0 = time.perf_counter()
            torch.save(obj, path)
            best_save = min(best_save, time.perf_counter() - t0)
        print("save_best", best_save)

        def touch(x):
            # one byte of every 4 KiB page
            return int(x.reshape(-1).view(torch.uint8)[::4096].sum())

        best_load = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            back = torch.load(path, weights_only=True)
            touch(back["weight"])
            best_load = min(best_load, time.perf_counter() - t0)
            del back
        print("load_best", best_load)

        # torch.load(mmap=True) exists from torch 2.1 on
        best_mmap = float("inf")
        try:
            for _ in range(runs):
                t0 = time.perf_counter()
                back = torch.load(path, weights_only=True, mmap=True)
                touch(back["weight"])
                best_mmap = min(best_mmap, time.perf_counter() - t0)
                del back
            print("load_mmap_best", best_mmap)
        except TypeError:
            print("load_mmap_best -1")
    finally:
        if os.path.exists(path):
            os.remove(path)

    if mcf_pt != "-":
        try:
            back = torch.load(mcf_pt, weights_only=True)
            w = back["weight"] if isinstance(back, dict) else back
            print("mcf_pt_equal", 1 if torch.equal(w, t) else 0)
        except Exception as e:  # noqa: BLE001 - report, the C side prints "not loadable"
            print("mcf_pt_error", repr(e)[:200].replace("\n", " "))
    sys.stdout.flush()
    return 0

if __name__ == "__main__":
    sys.exit(main())
