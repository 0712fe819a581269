namespace FashionVision.Transforms;

/// <summary>
/// Per-sample affine parameter arithmetic on managed arrays (N×2×3, row-major, six floats per sample). Parameters are drawn on
/// the CPU anyway; doing this scalar work in C# instead of as ~100 tiny tensor operations removes most of the per-batch overhead.
/// The tensor kernels in <see cref="TransformFunctional"/> compute the same maps (tests check they agree).
/// </summary>
internal static class AffineMath
{
    /// <summary>Writes the forward map of one sample (same convention as <see cref="TransformFunctional.AffineMatrix"/>).</summary>
    public static void Forward(Span<float> m, double angleDegrees, double translateX, double translateY, double scale,
        double shearXDegrees, double shearYDegrees)
    {
        double radians = angleDegrees * Math.PI / 180, c = Math.Cos(radians), s = Math.Sin(radians);
        double kx = Math.Tan(shearXDegrees * Math.PI / 180), ky = Math.Tan(shearYDegrees * Math.PI / 180);
        m[0] = (float)((c + s * ky) * scale);
        m[1] = (float)((c * kx + s) * scale);
        m[2] = (float)translateX;
        m[3] = (float)((c * ky - s) * scale);
        m[4] = (float)((c - s * kx) * scale);
        m[5] = (float)translateY;
    }

    /// <summary>N identity maps.</summary>
    public static float[] Identity(long n)
    {
        var result = new float[n * 6];
        for (long i = 0; i < n; i++)
        {
            result[i * 6] = 1;
            result[i * 6 + 4] = 1;
        }
        return result;
    }

    /// <summary>Composes per sample: the result applies <paramref name="first"/>, then <paramref name="second"/>.</summary>
    public static float[] Compose(float[] first, float[] second)
    {
        var result = new float[first.Length];
        for (int i = 0; i < first.Length; i += 6)
        {
            float a = second[i], b = second[i + 1], c = second[i + 2], d = second[i + 3], e = second[i + 4], f = second[i + 5];
            float p = first[i], q = first[i + 1], r = first[i + 2], s = first[i + 3], t = first[i + 4], u = first[i + 5];
            result[i] = a * p + b * s;
            result[i + 1] = a * q + b * t;
            result[i + 2] = a * r + b * u + c;
            result[i + 3] = d * p + e * s;
            result[i + 4] = d * q + e * t;
            result[i + 5] = d * r + e * u + f;
        }
        return result;
    }

    /// <summary>Whether each sample's map differs from the identity.</summary>
    public static bool[] NonIdentity(float[] maps)
    {
        var result = new bool[maps.Length / 6];
        for (int i = 0; i < result.Length; i++)
        {
            int k = i * 6;
            result[i] = maps[k] != 1 || maps[k + 1] != 0 || maps[k + 2] != 0 || maps[k + 3] != 0 || maps[k + 4] != 1 || maps[k + 5] != 0;
        }
        return result;
    }

    /// <summary>Inverts forward maps and rescales them to <c>affine_grid</c>'s normalized output → input thetas (as <see cref="TransformFunctional.SamplingTheta"/>).</summary>
    public static float[] SamplingTheta(float[] forward, long height, long width)
    {
        var theta = new float[forward.Length];
        double hw = (double)height / width, wh = (double)width / height;
        for (int i = 0; i < forward.Length; i += 6)
        {
            double a = forward[i], b = forward[i + 1], tx = forward[i + 2], c = forward[i + 3], d = forward[i + 4], ty = forward[i + 5];
            double det = a * d - b * c;
            double i00 = d / det, i01 = -b / det, i10 = -c / det, i11 = a / det;
            theta[i] = (float)i00;
            theta[i + 1] = (float)(i01 * hw);
            theta[i + 2] = (float)(-(i00 * tx + i01 * ty) * 2 / width);
            theta[i + 3] = (float)(i10 * wh);
            theta[i + 4] = (float)i11;
            theta[i + 5] = (float)(-(i10 * tx + i11 * ty) * 2 / height);
        }
        return theta;
    }
}
