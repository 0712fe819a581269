using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Stateless batched kernels behind the transforms (the equivalent of torchvision's <c>transforms.v2.functional</c>):
/// every method works on whole batches, takes its per-sample parameters as tensors on the images' device and draws nothing.
/// </summary>
/// <remarks>
/// Geometry conventions: pixel coordinates have x to the right and y downward, measured from the image centre; a positive
/// angle rotates the content counter-clockwise on screen (as in torchvision). Affine matrices are <em>forward</em> maps
/// (input pixel → output pixel) of shape N×2×3; <see cref="SamplingTheta"/> turns them into the output → input form
/// that <c>affine_grid</c> expects. Sampling uses <c>align_corners = false</c>, so pixel centres map onto pixel centres for
/// flips and quarter turns.
/// </remarks>
public static partial class TransformFunctional
{
    /// <summary>Mirrors images left to right (the last dimension).</summary>
    /// <param name="images">Images …×H×W.</param>
    public static Tensor HorizontalFlip(Tensor images) => images.flip(-1);

    /// <summary>Mirrors images top to bottom (the second-to-last dimension).</summary>
    /// <param name="images">Images …×H×W.</param>
    public static Tensor VerticalFlip(Tensor images) => images.flip(-2);

    /// <summary>
    /// Builds forward affine maps about the image centre in pixel units: scale, then shear, then rotation, then translation.
    /// All arguments are float tensors of length N on one device.
    /// </summary>
    /// <param name="angleDegrees">Counter-clockwise rotation in degrees.</param>
    /// <param name="translateX">Horizontal shift in pixels (positive: right).</param>
    /// <param name="translateY">Vertical shift in pixels (positive: down).</param>
    /// <param name="scale">Zoom factor (&gt; 1 enlarges the content).</param>
    /// <param name="shearXDegrees">Shear parallel to the x axis, in degrees.</param>
    /// <param name="shearYDegrees">Shear parallel to the y axis, in degrees.</param>
    /// <returns>Forward matrices N×2×3.</returns>
    public static Tensor AffineMatrix(Tensor angleDegrees, Tensor translateX, Tensor translateY, Tensor scale,
        Tensor shearXDegrees, Tensor shearYDegrees)
    {
        using var scope = NewDisposeScope();
        var radians = angleDegrees.deg2rad();
        var c = radians.cos();
        var s = radians.sin();
        var kx = shearXDegrees.deg2rad().tan();
        var ky = shearYDegrees.deg2rad().tan();
        // Rotation on screen (y down) counter-clockwise: [[c, s], [-s, c]]; shear [[1, kx], [ky, 1]]; then uniform scale.
        var m00 = (c + s * ky) * scale;
        var m01 = (c * kx + s) * scale;
        var m10 = (c * ky - s) * scale;
        var m11 = (c - s * kx) * scale;
        var matrix = stack(new[] { m00, m01, translateX, m10, m11, translateY }, 1).view(-1, 2, 3);
        return scope.MoveToOuter(matrix);
    }

    /// <summary>The identity forward map, N×2×3.</summary>
    /// <param name="n">The batch size.</param>
    /// <param name="dtype">The float dtype.</param>
    /// <param name="device">The device.</param>
    public static Tensor IdentityMatrix(long n, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var identity = eye(2, 3, dtype, device).unsqueeze(0).expand(n, 2, 3).contiguous();
        return scope.MoveToOuter(identity);
    }

    /// <summary>Composes forward maps: the result applies <paramref name="first"/>, then <paramref name="second"/> (both N×2×3).</summary>
    /// <param name="first">The map applied first.</param>
    /// <param name="second">The map applied second.</param>
    public static Tensor ComposeMatrices(Tensor first, Tensor second)
    {
        using var scope = NewDisposeScope();
        var a = second[.., .., ..2];
        var linear = a.bmm(first[.., .., ..2]);
        var translation = a.bmm(first[.., .., 2..]) + second[.., .., 2..];
        return scope.MoveToOuter(cat(new[] { linear, translation }, 2));
    }

    /// <summary>
    /// Inverts forward maps (N×2×3, pixel units about the centre) and rescales them to the normalized output → input
    /// coordinates of <c>affine_grid</c> for an image of the given size.
    /// </summary>
    /// <param name="forward">Forward matrices N×2×3.</param>
    /// <param name="height">The image height in pixels.</param>
    /// <param name="width">The image width in pixels.</param>
    /// <returns>Theta N×2×3 for <c>affine_grid</c>.</returns>
    public static Tensor SamplingTheta(Tensor forward, long height, long width)
    {
        using var scope = NewDisposeScope();
        var a = forward[.., 0, 0];
        var b = forward[.., 0, 1];
        var c = forward[.., 1, 0];
        var d = forward[.., 1, 1];
        var tx = forward[.., 0, 2];
        var ty = forward[.., 1, 2];
        var det = a * d - b * c;
        var i00 = d / det;
        var i01 = -b / det;
        var i10 = -c / det;
        var i11 = a / det;
        var itx = -(i00 * tx + i01 * ty);
        var ity = -(i10 * tx + i11 * ty);
        // Normalized x = pixel offset · 2/W, y = pixel offset · 2/H.
        double hw = (double)height / width, wh = (double)width / height;
        var theta = stack(new[] { i00, i01 * hw, itx * (2.0 / width), i10 * wh, i11, ity * (2.0 / height) }, 1).view(-1, 2, 3);
        return scope.MoveToOuter(theta);
    }

    /// <summary>Resamples images through normalized sampling coordinates, filling outside the image with a constant.</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="grid">Sampling grid N×H'×W'×2 (x, y in [-1, 1] over the input).</param>
    /// <param name="fill">The value read outside the image.</param>
    /// <param name="nearest">Nearest-neighbour instead of bilinear sampling.</param>
    /// <returns>Images N×C×H'×W'. With bilinear sampling the values stay within the range of the inputs and the fill.</returns>
    public static Tensor Warp(Tensor images, Tensor grid, double fill = 0, bool nearest = false)
    {
        var mode = nearest ? GridSampleMode.Nearest : GridSampleMode.Bilinear;
        if (fill == 0)
            return nn.functional.grid_sample(images, grid, mode, GridSamplePaddingMode.Zeros, align_corners: false);
        using var scope = NewDisposeScope();
        var shifted = nn.functional.grid_sample(images - fill, grid, mode, GridSamplePaddingMode.Zeros, align_corners: false);
        return scope.MoveToOuter(shifted.add_(fill));
    }

    /// <summary>
    /// The sampling grid of affine thetas, like <c>affine_grid(theta, [N, C, H, W], align_corners: false)</c> but built by
    /// broadcasting (x' = a·x + b·y + c per sample over a row of x and a column of y) instead of a batched 3-wide matrix
    /// product, which on the CPU is several times faster for small images.
    /// </summary>
    /// <param name="theta">Thetas N×2×3 (output → input, normalized coordinates).</param>
    /// <param name="height">The output height.</param>
    /// <param name="width">The output width.</param>
    /// <returns>The grid N×H×W×2 for <c>grid_sample</c>: a permuted view of x and y planes (N×2×H×W), because interleaving
    /// the two coordinates in memory costs more on the CPU than the whole sampling, and <c>grid_sample</c> reads strided grids.</returns>
    public static Tensor AffineGrid(Tensor theta, long height, long width)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(AffineGridPlanes(theta, height, width).permute(0, 2, 3, 1));
    }

    /// <summary>The affine sampling coordinates as planes N×2×H×W (x, then y); see <see cref="AffineGrid"/>.</summary>
    internal static Tensor AffineGridPlanes(Tensor theta, long height, long width)
    {
        using var scope = NewDisposeScope();
        long n = theta.shape[0];
        var xs = tensor(PixelCentres(width), new[] { 1L, 1, width }).to(theta.dtype, theta.device);
        var ys = tensor(PixelCentres(height), new[] { 1L, height, 1 }).to(theta.dtype, theta.device);
        var t = theta.view(n, 6, 1, 1);
        var gx = t[.., 0] * xs + (t[.., 1] * ys + t[.., 2]);
        var gy = t[.., 3] * xs + (t[.., 4] * ys + t[.., 5]);
        return scope.MoveToOuter(stack(new[] { gx, gy }, 1));
    }

    /// <summary>Normalized pixel-centre coordinates (2i + 1) / size − 1 (align_corners = false).</summary>
    private static float[] PixelCentres(long size)
    {
        var centres = new float[size];
        for (long i = 0; i < size; i++)
            centres[i] = (float)((2.0 * i + 1) / size - 1);
        return centres;
    }

    /// <summary>Applies forward affine maps (N×2×3, pixel units about the centre) to images, one grid for the whole batch.</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="forward">Forward matrices N×2×3 on the images' device.</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    public static Tensor AffineWarp(Tensor images, Tensor forward, double fill = 0)
    {
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        var theta = SamplingTheta(forward.to(images.dtype), h, w);
        var grid = AffineGrid(theta, h, w);
        return scope.MoveToOuter(Warp(images, grid, fill));
    }

    /// <summary>The identity sampling grid H×W×2 (pixel centres in normalized coordinates, align_corners = false).</summary>
    /// <param name="height">The height.</param>
    /// <param name="width">The width.</param>
    /// <param name="dtype">The float dtype.</param>
    /// <param name="device">The device.</param>
    public static Tensor IdentityGrid(long height, long width, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var xs = (arange(width, dtype, device) * 2 + 1) / width - 1;
        var ys = (arange(height, dtype, device) * 2 + 1) / height - 1;
        var grid = stack(new[] { xs.view(1, width).expand(height, width), ys.view(height, 1).expand(height, width) }, 2);
        return scope.MoveToOuter(grid);
    }

    /// <summary>Cuts one crop per sample at its own offset (a gather over the batch; no loop over samples).</summary>
    /// <param name="images">Images N×C×H×W.</param>
    /// <param name="top">Row offsets, int64 N.</param>
    /// <param name="left">Column offsets, int64 N.</param>
    /// <param name="height">The crop height (every crop must fit inside the image).</param>
    /// <param name="width">The crop width.</param>
    public static Tensor CropPerSample(Tensor images, Tensor top, Tensor left, long height, long width)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], c = images.shape[1], imageWidth = images.shape[3];
        var rows = top.view(n, 1, 1) + arange(height, ScalarType.Int64, images.device).view(1, height, 1);
        var cols = left.view(n, 1, 1) + arange(width, ScalarType.Int64, images.device).view(1, 1, width);
        var index = (rows * imageWidth + cols).view(n, 1, height * width).expand(n, c, height * width);
        var crops = images.reshape(n, c, -1).gather(2, index).view(n, c, height, width);
        return scope.MoveToOuter(crops);
    }

    /// <summary>
    /// Sampling thetas that map each output onto a box of the input (resized-crop): boxes N×4 as (top, left, height, width) in
    /// pixels, float.
    /// </summary>
    /// <param name="boxes">Boxes N×4 (top, left, height, width).</param>
    /// <param name="height">The input height.</param>
    /// <param name="width">The input width.</param>
    /// <returns>Theta N×2×3 for <c>affine_grid</c>.</returns>
    public static Tensor BoxTheta(Tensor boxes, long height, long width)
    {
        using var scope = NewDisposeScope();
        var top = boxes[.., 0];
        var left = boxes[.., 1];
        var h = boxes[.., 2];
        var w = boxes[.., 3];
        var zero = zeros_like(h);
        var theta = stack(new[] { w / width, zero, (left * 2 + w) / width - 1, zero, h / height, (top * 2 + h) / height - 1 }, 1)
            .view(-1, 2, 3);
        return scope.MoveToOuter(theta);
    }

    /// <summary>Resizes images to H'×W' with bilinear interpolation (align_corners = false; antialiased when shrinking).</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="height">The new height.</param>
    /// <param name="width">The new width.</param>
    public static Tensor Resize(Tensor images, long height, long width)
    {
        bool shrinking = height < images.shape[2] || width < images.shape[3];
        return nn.functional.interpolate(images, new[] { height, width }, mode: InterpolationMode.Bilinear,
            align_corners: false, antialias: shrinking);
    }
}
