"""OpenCV dnn (an independent Caffe runtime) forward of many Caffe nets in one Python start.

usage: forward_batch.py JOBS.json

JOBS.json is a list of {"prototxt", "caffemodel", "input": [IN.npy], "out": OUT.npy}. For each
job the net is read with cv2.dnn.readNetFromCaffe, fed IN.npy (N, C, H, W float32) as its
input, and the output of its last layer (or of the layer named by an optional "layer" key)
written to OUT.npy. A net OpenCV refuses gets
OUT.npy.error.txt holding OpenCV's message instead.
"""
import json
import sys

import cv2
import numpy as np


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        try:
            net = cv2.dnn.readNetFromCaffe(job["prototxt"], job["caffemodel"])
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
            if len(job["input"]) != 1:
                raise ValueError("one input expected, got %d" % len(job["input"]))
            net.setInput(np.load(job["input"][0]).astype(np.float32))
            y = net.forward(job["layer"]) if job.get("layer") else net.forward()
            np.save(job["out"], np.ascontiguousarray(y, dtype=np.float32))
        except Exception as e:  # the oracle's refusal is data for the caller, not a crash
            with open(job["out"] + ".error.txt", "w") as f:
                f.write(str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__)


if __name__ == "__main__":
    main()
