using System.Buffers.Binary;

namespace WebSsl.Vision.Images;

/// <summary>
/// Structural completeness checks that run before decoding. ImageSharp 2.1 decodes a truncated JPEG, GIF, BMP or lossy
/// WebP "successfully" and fills the missing part with gray or black, so a cut-off upload would be answered about as if it
/// were whole. These walks read only container structure (markers, chunks, blocks), never pixel data.
/// </summary>
internal static class ImageIntegrity
{
    /// <summary>Returns null when the container is complete, else what is missing.</summary>
    public static string? FindTruncation(string formatName, ReadOnlySpan<byte> data) => formatName.ToUpperInvariant() switch
    {
        "PNG" => CheckPng(data),
        "JPEG" => CheckJpeg(data),
        "GIF" => CheckGif(data),
        "BMP" => CheckBmp(data),
        "WEBP" => CheckWebp(data),
        _ => null,
    };

    private static string? CheckPng(ReadOnlySpan<byte> data)
    {
        long position = 8;
        bool sawData = false;
        while (position + 12 <= data.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[(int)position..]);
            ReadOnlySpan<byte> type = data.Slice((int)position + 4, 4);
            long next = position + 12 + length;
            if (next > data.Length)
            {
                return $"PNG chunk '{System.Text.Encoding.ASCII.GetString(type)}' at byte {position} needs {length} bytes of data but the file ends first";
            }
            if (type.SequenceEqual("IDAT"u8))
            {
                sawData = true;
            }
            if (type.SequenceEqual("IEND"u8))
            {
                return sawData ? null : "PNG has no image data (IDAT) before its end chunk";
            }
            position = next;
        }
        return "PNG ends without its IEND chunk";
    }

    private static string? CheckJpeg(ReadOnlySpan<byte> data)
    {
        int position = 2;
        while (true)
        {
            // Markers before the first scan are FF xx followed by a 2-byte big-endian length (which counts itself).
            while (position < data.Length && data[position] == 0xFF)
            {
                position++;
            }
            if (position >= data.Length)
            {
                return "JPEG ends before its first scan";
            }
            byte marker = data[position++];
            if (marker == 0xD9)
            {
                return "JPEG ends (EOI) before any scan";
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue;
            }
            if (position + 2 > data.Length)
            {
                return "JPEG ends inside a marker segment";
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[position..]);
            position += length;
            if (position > data.Length)
            {
                return $"JPEG marker FF{marker:X2} declares {length} bytes but the file ends first";
            }
            if (marker == 0xDA)
            {
                break;
            }
        }
        // Entropy-coded data escapes every FF as FF 00, so FF D9 after the first scan can only be the end-of-image marker.
        ReadOnlySpan<byte> rest = data[position..];
        for (int i = rest.Length - 2; i >= 0; i--)
        {
            if (rest[i] == 0xFF && rest[i + 1] == 0xD9)
            {
                return null;
            }
        }
        return "JPEG ends inside its image data (no end-of-image marker)";
    }

    private static string? CheckGif(ReadOnlySpan<byte> data)
    {
        if (data.Length < 13)
        {
            return "GIF ends inside its header";
        }
        long position = 13;
        byte screenFlags = data[10];
        if ((screenFlags & 0x80) != 0)
        {
            position += 3L << ((screenFlags & 7) + 1);
        }
        while (true)
        {
            if (position >= data.Length)
            {
                return "GIF ends before its first image";
            }
            byte introducer = data[(int)position];
            if (introducer == 0x21)
            {
                position = SkipSubBlocks(data, position + 2);
            }
            else if (introducer == 0x2C)
            {
                if (position + 10 > data.Length)
                {
                    return "GIF ends inside an image descriptor";
                }
                byte imageFlags = data[(int)position + 9];
                position += 10;
                if ((imageFlags & 0x80) != 0)
                {
                    position += 3L << ((imageFlags & 7) + 1);
                }
                position = SkipSubBlocks(data, position + 1);
                return position < 0 ? "GIF ends inside its first image's data" : null;
            }
            else if (introducer == 0x3B)
            {
                return "GIF has no image before its trailer";
            }
            else
            {
                return $"GIF has an unknown block 0x{introducer:X2} at byte {position}";
            }
            if (position < 0)
            {
                return "GIF ends inside an extension block";
            }
        }
    }

    /// <summary>Position after a chain of GIF sub-blocks ending with a zero-length block, or -1 when the data ends first.</summary>
    private static long SkipSubBlocks(ReadOnlySpan<byte> data, long position)
    {
        while (position < data.Length)
        {
            byte size = data[(int)position];
            position += 1 + size;
            if (size == 0)
            {
                return position;
            }
        }
        return -1;
    }

    private static string? CheckBmp(ReadOnlySpan<byte> data)
    {
        if (data.Length < 34)
        {
            return "BMP ends inside its headers";
        }
        uint declaredSize = BinaryPrimitives.ReadUInt32LittleEndian(data[2..]);
        uint pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
        int width = BinaryPrimitives.ReadInt32LittleEndian(data[18..]);
        int height = BinaryPrimitives.ReadInt32LittleEndian(data[22..]);
        int bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(data[28..]);
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(data[30..]);
        long needed;
        if (compression is 0 or 3 or 6)
        {
            long stride = ((long)Math.Abs(width) * bitsPerPixel + 31) / 32 * 4;
            needed = pixelOffset + stride * Math.Abs((long)height);
        }
        else
        {
            needed = declaredSize; // compressed (RLE/JPEG/PNG inside BMP): only the declared file size tells
        }
        return needed > data.Length ? $"BMP needs {needed} bytes but the file has {data.Length}" : null;
    }

    private static string? CheckWebp(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12)
        {
            return "WebP ends inside its RIFF header";
        }
        long declared = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) + 8L;
        return declared > data.Length ? $"WebP declares {declared} bytes but the file has {data.Length}" : null;
    }
}
