using FashionVision.Data;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Imaging;

/// <summary>Images decoded from files: one uint8 tensor, the files it holds (in row order) and those left out.</summary>
/// <param name="Images">uint8 N×C×H×W on the CPU; the caller owns it.</param>
/// <param name="Kept">For each row, the index of its file in the list that was decoded.</param>
/// <param name="Files">For each row, its file.</param>
/// <param name="Skipped">Files left out because they could not be decoded (only when bad files are skipped).</param>
public sealed record DecodedImages(Tensor Images, IReadOnlyList<int> Kept, IReadOnlyList<string> Files, IReadOnlyList<SkippedInput> Skipped);

/// <summary>Finds image files in folders and decodes many of them at once, in parallel, into one tensor.</summary>
public static class ImageFiles
{
    /// <summary>
    /// Every image file under <paramref name="folder"/> (subfolders included, hidden ones and directory links not), sorted by path.
    /// </summary>
    /// <param name="folder">The folder.</param>
    /// <param name="extensions">The extensions that count as images; null for <see cref="ImageFolderOptions.DefaultExtensions"/>.</param>
    /// <exception cref="DatasetFormatException">The folder does not exist or cannot be listed.</exception>
    public static IReadOnlyList<string> Find(string folder, IReadOnlyList<string>? extensions = null) =>
        FindWithInfo(folder, extensions ?? ImageFolderOptions.DefaultExtensions).Select(f => f.FullName).ToList();

    /// <summary>The image files under a folder with their sizes and times, sorted by path (ordinal); directory links are skipped.</summary>
    internal static IReadOnlyList<FileInfo> FindWithInfo(string folder, IReadOnlyList<string> extensions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        return new FolderTree(folder, [], followLinks: false, NullLogger.Instance, new HashSet<string>()).FindFiles(folder, extensions);
    }

    /// <summary>
    /// Decodes image files into one uint8 tensor N×C×H×W, several at once (<see cref="ImageFolderOptions.MaxDegreeOfParallelism"/>),
    /// with <see cref="ImageFolderOptions.Decode"/>, <see cref="ImageFolderOptions.Resize"/>,
    /// <see cref="ImageFolderOptions.SkipBadFiles"/>, <see cref="ImageFolderOptions.Logger"/> and
    /// <see cref="ImageFolderOptions.Progress"/>; the layout and cache options do not apply here.
    /// </summary>
    /// <param name="paths">The files, in the order the rows should have.</param>
    /// <param name="options">How to decode; null for the defaults.</param>
    /// <param name="cancellationToken">Stops the decoding.</param>
    /// <exception cref="DatasetFormatException">A file cannot be decoded or has another size than the first when resizing is off (and bad files are not skipped), or no file can be decoded.</exception>
    public static DecodedImages Decode(IReadOnlyList<string> paths, ImageFolderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        options ??= new ImageFolderOptions();
        options.Validate(nameof(options));
        return Decode(paths, options, options.Name ?? "images", cancellationToken);
    }

    internal static DecodedImages Decode(IReadOnlyList<string> paths, ImageFolderOptions options, string datasetName, CancellationToken cancellationToken)
    {
        int count = paths.Count;
        if (count == 0)
            throw new ArgumentException("No image files to decode.", nameof(paths));
        var problems = new string?[count];
        var decode = options.Decode;
        long[] shape = [decode.Channels, decode.Height, decode.Width];
        int start = 0;
        byte[]? firstRow = null;
        if (!options.Resize)
        {
            // Without resizing, the first decodable file (in order) fixes the size every other file must have.
            for (; start < count && firstRow is null; start++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    using var first = ImageDecoder.DecodeFileToBytes(paths[start], decode, keepSize: true);
                    shape = first.shape;
                    firstRow = first.bytes.ToArray();
                }
                catch (ImageDecodeException e)
                {
                    problems[start] = CannotDecode(e);
                    if (!options.SkipBadFiles)
                        throw Failure(paths, problems);
                }
            }
            if (firstRow is null)
                throw Failure(paths, problems);
        }

        long rowSize = shape[0] * shape[1] * shape[2];
        if (rowSize * count > Array.MaxLength)
            throw new DatasetFormatException(Path.GetDirectoryName(paths[0]) ?? paths[0], $"{count:N0} images of {shape[0]}×{shape[1]}×{shape[2]} exceed {Array.MaxLength:N0} bytes, the most one dataset tensor is decoded into");
        var buffer = new byte[rowSize * count];
        firstRow?.CopyTo(buffer.AsSpan((int)((start - 1) * rowSize)));
        int done = start;
        int reportEvery = Math.Max(1, count / 100);
        string? sizeSource = options.Resize ? null : paths[start - 1];

        Parallel.For(start, count, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken }, (i, loop) =>
        {
            try
            {
                using var image = ImageDecoder.DecodeFileToBytes(paths[i], decode, keepSize: !options.Resize);
                if (!image.shape.SequenceEqual(shape))
                    problems[i] = $"the image is {image.shape[2]}×{image.shape[1]} (width×height, {image.shape[0]} channel(s)) but {sizeSource} is {shape[2]}×{shape[1]}; images must share one size when resizing is off";
                else
                    image.bytes.CopyTo(buffer.AsSpan((int)(i * rowSize), (int)rowSize));
            }
            catch (ImageDecodeException e)
            {
                problems[i] = CannotDecode(e);
            }
            // Break (not Stop): every file before this one is still decoded, so the error reported is the first in order.
            if (problems[i] is not null && !options.SkipBadFiles)
                loop.Break();
            int handled = Interlocked.Increment(ref done);
            if (options.Progress is { } progress && (handled % reportEvery == 0 || handled == count))
                progress.Report(new ImageDecodeProgress(handled, count));
        });

        var skippedLog = new SkippedInputLog(options.Logger ?? NullLogger.Instance, datasetName);
        var kept = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            if (problems[i] is not { } problem)
            {
                // Close the gaps that skipped files left (rows only ever move towards the start).
                if (kept.Count != i)
                    Buffer.BlockCopy(buffer, (int)(i * rowSize), buffer, (int)(kept.Count * rowSize), (int)rowSize);
                kept.Add(i);
            }
            else if (!options.SkipBadFiles)
            {
                throw Failure(paths, problems);
            }
            else
            {
                skippedLog.Add(i, new SkippedInput(paths[i], null, problem));
            }
        }
        var skipped = skippedLog.Complete();
        if (kept.Count == 0)
            throw new DatasetFormatException(Path.GetDirectoryName(paths[0]) ?? paths[0], $"none of its {count} image files can be decoded (the first: {skipped[0]})");

        var images = empty([kept.Count, shape[0], shape[1], shape[2]], ScalarType.Byte);
        buffer.AsSpan(0, (int)(kept.Count * rowSize)).CopyTo(images.bytes);
        return new DecodedImages(images, kept, kept.Select(i => paths[i]).ToList(), skipped);
    }

    private static string CannotDecode(ImageDecodeException e) => $"the image cannot be decoded: {e.Problem.TrimEnd('.')}";

    private static DatasetFormatException Failure(IReadOnlyList<string> paths, string?[] problems)
    {
        int first = Array.FindIndex(problems, p => p is not null);
        return new DatasetFormatException(paths[first], problems[first]!);
    }
}
