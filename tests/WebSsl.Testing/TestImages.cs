using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace WebSsl.Testing;

/// <summary>Builds real encoded images (and deliberately broken ones) for the image tests.</summary>
public static class TestImages
{
    public static byte[] Encode<TPixel>(Image<TPixel> image, IImageEncoder encoder) where TPixel : unmanaged, IPixel<TPixel>
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    /// <summary>A w x h image whose pixel (x, y) is <paramref name="color"/>(x, y).</summary>
    public static Image<Rgb24> Make(int width, int height, Func<int, int, Rgb24> color)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = color(x, y);
            }
        }
        return image;
    }

    public static Image<Rgb24> Gradient(int width, int height) =>
        Make(width, height, (x, y) => new Rgb24((byte)(x * 255 / Math.Max(1, width - 1)), (byte)(y * 255 / Math.Max(1, height - 1)), 90));

    /// <summary>
    /// A PNG that claims <paramref name="width"/> x <paramref name="height"/> but carries one tiny zlib stream: the classic
    /// decompression-bomb shape (ImageSharp would allocate the full image for it).
    /// </summary>
    public static byte[] PngClaiming(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // truecolor
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// The same PNG with its first IDAT chunk's compressed data replaced by noise (and the chunk CRC fixed up): the
    /// header and chunk layout are valid, so only decoding can tell it is corrupt.
    /// </summary>
    public static byte[] WithGarbledPixels(byte[] png, int seed = 3)
    {
        byte[] copy = (byte[])png.Clone();
        int type = copy.AsSpan().IndexOf("IDAT"u8);
        int length = BinaryPrimitives.ReadInt32BigEndian(copy.AsSpan(type - 4));
        new Random(seed).NextBytes(copy.AsSpan(type + 4, length));
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(type + 4 + length), Crc32(copy[type..(type + 4 + length)]));
        return copy;
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        stream.Write(typeAndData);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        stream.Write(crc);
    }

    /// <summary>The CRC-32 PNG uses (reflected polynomial 0xEDB88320).</summary>
    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }

    public static PngEncoder Png { get; } = new();
}
