using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>
/// Streams a CSV file of images line by line into one uint8 tensor and a label array (never the whole file as text), checking
/// every row: its column count, each pixel an integer in 0–255, the label an integer inside the class range.
/// </summary>
internal static class CsvImageReader
{
    private const int MaxQuotedField = 24;

    /// <summary>The parsed rows: images N×C×H×W (the caller owns them), labels, and the line each row came from.</summary>
    public sealed record Rows(Tensor Images, long[] Labels, long[] Lines, IReadOnlyList<SkippedInput> Skipped);

    /// <summary>Reads every data row of <paramref name="path"/>.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">The layout.</param>
    /// <param name="classCount">Labels must be below this; null accepts any non-negative label.</param>
    /// <param name="logger">Receives a warning per skipped row.</param>
    /// <param name="datasetName">The dataset's name, for the log.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <exception cref="DatasetFormatException">The file cannot be read, holds no rows, or a row is bad (and bad rows are not skipped).</exception>
    public static Rows Read(string path, CsvDatasetOptions options, int? classCount, ILogger logger, string datasetName, CancellationToken cancellationToken)
    {
        int pixels = options.PixelCount;
        var skipped = new SkippedInputLog(logger, datasetName);
        var labels = new List<long>();
        var lines = new List<long>();
        var buffer = new byte[Math.Min(Array.MaxLength, (long)pixels * 256)];
        int rows = 0;
        bool? hasLabels = options.HasLabels;
        bool firstLine = true;

        using var reader = new LineReader(path, cancellationToken);
        while (reader.Next() is { } line)
        {
            long lineNumber = reader.Number;
            int columns = line.AsSpan().Count(',') + 1;
            if (firstLine)
            {
                firstLine = false;
                if (hasLabels is null)
                {
                    if (columns != pixels + 1 && columns != pixels)
                        throw new DatasetFormatException(path, lineNumber, ColumnProblem(columns, hasLabels: null, options, firstLine: true));
                    hasLabels = columns == pixels + 1;
                }
                if (IsHeader(line, options))
                {
                    if (columns != pixels + (hasLabels.Value ? 1 : 0))
                        throw new DatasetFormatException(path, lineNumber, "the header " + ColumnProblem(columns, hasLabels.Value, options, firstLine: true));
                    continue;
                }
            }

            if ((long)(rows + 1) * pixels > buffer.Length)
                buffer = Grow(buffer, (long)(rows + 1) * pixels, path, lineNumber);
            long label = 0;
            string? problem = columns != pixels + (hasLabels!.Value ? 1 : 0)
                ? ColumnProblem(columns, hasLabels.Value, options, firstLine: rows == 0 && skipped.Count == 0)
                : ParseRow(line, hasLabels.Value, classCount, buffer.AsSpan(rows * pixels, pixels), out label);
            if (problem is not null)
            {
                if (!options.SkipBadRows)
                    throw new DatasetFormatException(path, lineNumber, problem);
                skipped.Add(lineNumber, new SkippedInput(path, lineNumber, problem));
                continue;
            }
            labels.Add(label);
            lines.Add(lineNumber);
            rows++;
        }

        var skippedRows = skipped.Complete();
        if (rows == 0)
        {
            throw new DatasetFormatException(path, reader.Number == 0 ? "the file is empty"
                : skippedRows.Count > 0 ? $"none of its {skippedRows.Count} data rows is usable" : "it holds no data rows");
        }
        var images = empty([rows, options.Channels, options.Height, options.Width], ScalarType.Byte);
        buffer.AsSpan(0, rows * pixels).CopyTo(images.bytes);
        return new Rows(images, labels.ToArray(), lines.ToArray(), skippedRows);
    }

    /// <summary>The largest label in the file (only the first column is parsed; bad rows are ignored here), or -1 when it has none.</summary>
    public static long MaxLabel(string path, CsvDatasetOptions options, CancellationToken cancellationToken)
    {
        if (options.HasLabels == false)
            return -1;
        long max = -1;
        bool firstLine = true;
        using var reader = new LineReader(path, cancellationToken);
        while (reader.Next() is { } line)
        {
            if (firstLine)
            {
                firstLine = false;
                if (options.HasLabels is null && line.AsSpan().Count(',') + 1 != options.PixelCount + 1)
                    return -1;
                if (IsHeader(line, options))
                    continue;
            }
            var span = line.AsSpan();
            int comma = span.IndexOf(',');
            if (long.TryParse((comma < 0 ? span : span[..comma]).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long label))
                max = Math.Max(max, label);
        }
        return max;
    }

    private static string? ParseRow(string line, bool hasLabels, int? classCount, Span<byte> target, out long label)
    {
        var rest = line.AsSpan();
        label = 0;
        int column = 1;
        if (hasLabels)
        {
            var field = NextField(ref rest);
            if (!long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out label))
                return $"the label '{Quote(field)}' is not an integer";
            if (label < 0)
                return $"the label {label} is negative";
            if (classCount is int count && label >= count)
                return $"the label {label} is outside the {count} classes (0–{count - 1})";
            column++;
        }
        for (int j = 0; j < target.Length; j++, column++)
        {
            var field = NextField(ref rest);
            if (!int.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                return $"column {column}: the pixel value '{Quote(field)}' is not an integer in 0–255";
            if (value is < 0 or > 255)
                return $"column {column}: the pixel value {value} is outside 0–255";
            target[j] = (byte)value;
        }
        return null;
    }

    private static ReadOnlySpan<char> NextField(ref ReadOnlySpan<char> rest)
    {
        int comma = rest.IndexOf(',');
        var field = comma < 0 ? rest : rest[..comma];
        rest = comma < 0 ? ReadOnlySpan<char>.Empty : rest[(comma + 1)..];
        return field.Trim();
    }

    private static string ColumnProblem(int columns, bool? hasLabels, CsvDatasetOptions options, bool firstLine)
    {
        string shape = $"{options.Channels}×{options.Height}×{options.Width} = {options.PixelCount} pixel values";
        string expected = hasLabels switch
        {
            true => $"{options.PixelCount + 1} (a label and {shape})",
            false => $"{options.PixelCount} ({shape})",
            null => $"{options.PixelCount + 1} (a label and {shape}) or {options.PixelCount} (pixels only)",
        };
        return $"has {columns} columns; expected {expected}" + (firstLine ? "; is the image size right?" : "");
    }

    private static bool IsHeader(string line, CsvDatasetOptions options) =>
        options.Header == CsvHeader.Present || (options.Header == CsvHeader.Auto && LooksLikeHeader(line));

    /// <summary>A header has a field that is not a number (Kaggle: <c>label,pixel1,...</c>).</summary>
    private static bool LooksLikeHeader(string line)
    {
        var rest = line.AsSpan();
        while (!rest.IsEmpty)
        {
            var field = NextField(ref rest);
            if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                return true;
        }
        return false;
    }

    private static string Quote(ReadOnlySpan<char> field) =>
        field.Length <= MaxQuotedField ? field.ToString() : field[..MaxQuotedField].ToString() + "…";

    private static byte[] Grow(byte[] buffer, long needed, string path, long lineNumber)
    {
        if (needed > Array.MaxLength)
            throw new DatasetFormatException(path, lineNumber, $"the images so far exceed {Array.MaxLength:N0} bytes, the most one dataset tensor is read into");
        var larger = new byte[Math.Min(Array.MaxLength, Math.Max(needed, 2L * buffer.Length))];
        buffer.CopyTo(larger, 0);
        return larger;
    }

    /// <summary>Reads a file's lines that are not blank, counting every line (1-based) and checking for cancellation.</summary>
    private sealed class LineReader(string path, CancellationToken cancellationToken) : IDisposable
    {
        private readonly StreamReader _reader = new(DatasetFileStream.OpenRead(path), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16);

        /// <summary>The number of the line last read (0 before the first).</summary>
        public long Number { get; private set; }

        /// <summary>The next line that is not blank, or null at the end of the file.</summary>
        public string? Next()
        {
            while (true)
            {
                string? line;
                try
                {
                    line = _reader.ReadLine();
                }
                catch (IOException e)
                {
                    throw new DatasetFormatException(path, Number + 1, $"cannot be read: {e.Message}", e);
                }
                if (line is null)
                    return null;
                Number++;
                if ((Number & 1023) == 0)
                    cancellationToken.ThrowIfCancellationRequested();
                if (!string.IsNullOrWhiteSpace(line))
                    return line;
            }
        }

        public void Dispose() => _reader.Dispose();
    }
}
