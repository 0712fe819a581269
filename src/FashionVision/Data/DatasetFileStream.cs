namespace FashionVision.Data;

/// <summary>Opens a dataset file for reading, turning every way that can fail into a <see cref="DatasetFormatException"/> naming the file.</summary>
internal static class DatasetFileStream
{
    public static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException e)
        {
            throw new DatasetFormatException(path, "file not found", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new DatasetFormatException(path, "file not found (its folder does not exist)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(path, $"cannot be read: {e.Message}", e);
        }
    }
}
