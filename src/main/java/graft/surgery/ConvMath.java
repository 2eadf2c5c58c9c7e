package graft.surgery;

/**
 * The arithmetic behind {@link ReplaceConvPair}, in double precision on plain arrays (OIHW
 * kernels, NCHW tensors, row-major). Stride 1, dilation 1, group 1, symmetric zero padding:
 * what the edit checks before it gets here.
 */
final class ConvMath {
    private ConvMath() {
    }

    /** A conv kernel with its bias: w[o][i][y][x] flattened, b[o]. */
    record Kernel(int out, int in, int k, double[] w, double[] b) {
        double at(int o, int i, int y, int x) {
            return w[((o * in + i) * k + y) * k + x];
        }
    }

    /**
     * The single kernel equal to {@code second} applied after {@code first} with nothing in
     * between: W[o][i][s][t] = sum over m, p+u=s, q+v=t of W2[o][m][p][q] W1[m][i][u][v], and
     * b[o] = b2[o] + sum over m, p, q of W2[o][m][p][q] b1[m]. Exact away from the borders;
     * within (k-1)/2 pixels of a zero-padded border the pair saw first's bias where the single
     * kernel sees zeros.
     */
    static Kernel compose(Kernel first, Kernel second) {
        int k = first.k + second.k - 1;
        int c0 = first.in;
        int c2 = second.out;
        double[] w = new double[c2 * c0 * k * k];
        double[] b = new double[c2];
        for (int o = 0; o < c2; o++) {
            b[o] = second.b[o];
            for (int m = 0; m < first.out; m++) {
                for (int p = 0; p < second.k; p++) {
                    for (int q = 0; q < second.k; q++) {
                        double w2 = second.at(o, m, p, q);
                        b[o] += w2 * first.b[m];
                        for (int i = 0; i < c0; i++) {
                            for (int u = 0; u < first.k; u++) {
                                for (int v = 0; v < first.k; v++) {
                                    w[((o * c0 + i) * k + p + u) * k + q + v] += w2 * first.at(m, i, u, v);
                                }
                            }
                        }
                    }
                }
            }
        }
        return new Kernel(c2, c0, k, w, b);
    }

    /** Cross-correlation (ONNX Conv) of x (n, in, h, w) with symmetric zero padding {@code pad}. */
    static double[] conv(double[] x, int n, int h, int wd, Kernel kn, int pad) {
        int oh = h + 2 * pad - kn.k + 1;
        int ow = wd + 2 * pad - kn.k + 1;
        double[] y = new double[n * kn.out * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < kn.out; o++) {
                int yo = (b * kn.out + o) * oh * ow;
                for (int r = 0; r < oh * ow; r++) {
                    y[yo + r] = kn.b[o];
                }
                for (int i = 0; i < kn.in; i++) {
                    int xo = (b * kn.in + i) * h * wd;
                    for (int u = 0; u < kn.k; u++) {
                        for (int v = 0; v < kn.k; v++) {
                            double wv = kn.at(o, i, u, v);
                            for (int r = 0; r < oh; r++) {
                                int sr = r + u - pad;
                                if (sr < 0 || sr >= h) {
                                    continue;
                                }
                                int yrow = yo + r * ow;
                                int xrow = xo + sr * wd;
                                for (int c = 0; c < ow; c++) {
                                    int sc = c + v - pad;
                                    if (sc >= 0 && sc < wd) {
                                        y[yrow + c] += wv * x[xrow + sc];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    /**
     * The k x k kernel (and bias) that best reproduces {@code target} (n, out, h, w) from x
     * (n, in, h, w) padded by {@code pad}, in the least-squares sense: the normal equations
     * (X'X) w = X'y, accumulated and solved (Cholesky) in double. One Gram matrix serves every
     * output channel. A ridge of 1e-9 of the mean diagonal keeps a rank-deficient system solvable.
     */
    static Kernel fit(double[] x, int n, int in, int h, int wd, double[] target, int out, int k, int pad) {
        int d = in * k * k + 1;
        double[] gram = new double[d * d];
        double[] rhs = new double[d * out];
        double[] f = new double[d];
        int oh = h + 2 * pad - k + 1;
        int ow = wd + 2 * pad - k + 1;
        for (int b = 0; b < n; b++) {
            for (int r = 0; r < oh; r++) {
                for (int c = 0; c < ow; c++) {
                    int j = 0;
                    for (int i = 0; i < in; i++) {
                        for (int u = 0; u < k; u++) {
                            for (int v = 0; v < k; v++) {
                                int sr = r + u - pad;
                                int sc = c + v - pad;
                                f[j++] = sr < 0 || sr >= h || sc < 0 || sc >= wd ? 0 : x[((b * in + i) * h + sr) * wd + sc];
                            }
                        }
                    }
                    f[j] = 1;
                    for (int p = 0; p < d; p++) {
                        double fp = f[p];
                        if (fp == 0) {
                            continue;
                        }
                        for (int q = p; q < d; q++) {
                            gram[p * d + q] += fp * f[q];
                        }
                        for (int o = 0; o < out; o++) {
                            rhs[p * out + o] += fp * target[((b * out + o) * oh + r) * ow + c];
                        }
                    }
                }
            }
        }
        double trace = 0;
        for (int p = 0; p < d; p++) {
            for (int q = 0; q < p; q++) {
                gram[p * d + q] = gram[q * d + p];
            }
            trace += gram[p * d + p];
        }
        for (int p = 0; p < d; p++) {
            gram[p * d + p] += 1e-9 * trace / d;
        }
        double[] sol = cholesky(gram, rhs, d, out);
        double[] w = new double[out * in * k * k];
        double[] bias = new double[out];
        for (int o = 0; o < out; o++) {
            for (int p = 0; p < d - 1; p++) {
                w[o * (d - 1) + p] = sol[p * out + o];
            }
            bias[o] = sol[(d - 1) * out + o];
        }
        return new Kernel(out, in, k, w, bias);
    }

    /** Solves A X = B for symmetric positive definite A (d x d) and B (d x m), row-major. */
    static double[] cholesky(double[] a, double[] bm, int d, int m) {
        double[] l = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * d + j];
                for (int p = 0; p < j; p++) {
                    s -= l[i * d + p] * l[j * d + p];
                }
                if (i == j) {
                    if (s <= 0) {
                        throw new ArithmeticException("the calibration inputs do not determine the kernel (matrix not positive definite)");
                    }
                    l[i * d + i] = Math.sqrt(s);
                } else {
                    l[i * d + j] = s / l[j * d + j];
                }
            }
        }
        double[] x = bm.clone();
        for (int c = 0; c < m; c++) {
            for (int i = 0; i < d; i++) {
                double s = x[i * m + c];
                for (int p = 0; p < i; p++) {
                    s -= l[i * d + p] * x[p * m + c];
                }
                x[i * m + c] = s / l[i * d + i];
            }
            for (int i = d - 1; i >= 0; i--) {
                double s = x[i * m + c];
                for (int p = i + 1; p < d; p++) {
                    s -= l[p * d + i] * x[p * m + c];
                }
                x[i * m + c] = s / l[i * d + i];
            }
        }
        return x;
    }
}
