// Marks one symbol-version requirement of an ELF64 shared library as weak (VER_FLG_WEAK).
//
// Why this exists: TorchSharp 0.107's libLibTorchSharp.so declares that it needs GLIBCXX_3.4.32 (GCC 13), but the only
// symbol bound to that version (std::ios_base_library_init) is never relocated. Debian 12's libstdc++ stops at
// GLIBCXX_3.4.30, so the dynamic loader refuses the library and TorchSharp dies with a misleading message. A weak
// version requirement is checked by the loader as "warn if missing" instead of "fail". No library or tool on the build
// machine does this portably (patchelf cannot set the flag), hence this small reader of the ELF version sections.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (Directory.Build.targets) as an inline task, and by
// the vision tests with WEBSSL_ELF_TESTS defined, where the MSBuild task class is left out. The task factory compiles
// against netstandard2.0, so only APIs from there are used.
#nullable enable
using System;
using System.IO;
using System.Text;

namespace WebSsl.Build
{
    public enum ElfPatchOutcome
    {
        /// <summary>The requirement was strong and is now weak.</summary>
        MarkedWeak,
        /// <summary>The requirement was already weak (an earlier build patched this copy).</summary>
        AlreadyWeak,
        /// <summary>The library does not require that version at all.</summary>
        NotRequired,
    }

    public static class ElfVersionNeeds
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>True when the library at <paramref name="path"/> defines <paramref name="version"/> (e.g. a new enough libstdc++).</summary>
        /// <remarks>A version a library defines appears as a NUL-terminated name in its dynamic string table; searching the bytes
        /// is enough to tell "3.4.32 present" from "absent" without parsing the verdef chain.</remarks>
        public static bool LibraryDefines(string path, string version)
        {
            if (!File.Exists(path))
            {
                return false;
            }
            byte[] bytes = File.ReadAllBytes(path);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            for (int start = 0; start <= bytes.Length - needle.Length; start++)
            {
                if (bytes[start] == needle[0] && NameEquals(bytes, start, version))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Reads whether the requirement on <paramref name="version"/> is weak; null when it is not required.</summary>
        public static bool? IsWeak(string path, string version)
        {
            byte[] image = File.ReadAllBytes(path);
            int flagsOffset = FindRequirementFlags(image, version, path);
            return flagsOffset < 0 ? null : (BitConverter.ToUInt16(image, flagsOffset) & VerFlgWeak) != 0;
        }

        /// <summary>Sets VER_FLG_WEAK on the requirement. Idempotent; writes a new file and renames it over the old one, so a
        /// process that has the library mapped never sees a half-written file.</summary>
        public static ElfPatchOutcome MarkWeak(string path, string version)
        {
            byte[] image = File.ReadAllBytes(path);
            int flagsOffset = FindRequirementFlags(image, version, path);
            if (flagsOffset < 0)
            {
                return ElfPatchOutcome.NotRequired;
            }
            ushort flags = BitConverter.ToUInt16(image, flagsOffset);
            if ((flags & VerFlgWeak) != 0)
            {
                return ElfPatchOutcome.AlreadyWeak;
            }
            image[flagsOffset] = (byte)(flags | VerFlgWeak);
            string temporary = path + ".weak-patch.tmp";
            File.WriteAllBytes(temporary, image);
            File.SetLastWriteTimeUtc(temporary, File.GetLastWriteTimeUtc(path));
            // File.Replace is a rename(2) on Unix: readers see the old or the new file, never a mix.
            File.Replace(temporary, path, destinationBackupFileName: null);
            return ElfPatchOutcome.MarkedWeak;
        }

        /// <summary>File offset of vna_flags of the Vernaux entry named <paramref name="version"/>, or -1.</summary>
        private static int FindRequirementFlags(byte[] image, string version, string path)
        {
            // ELF64 little-endian only: the platforms TorchSharp ships Linux natives for.
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            {
                throw new InvalidDataException($"{path}: not an ELF file (magic 7f 45 4c 46 expected).");
            }
            if (image[4] != 2 || image[5] != 1)
            {
                throw new InvalidDataException($"{path}: only 64-bit little-endian ELF is supported (class {image[4]}, data {image[5]}).");
            }
            long sectionTable = (long)BitConverter.ToUInt64(image, 0x28);
            int sectionSize = BitConverter.ToUInt16(image, 0x3A);
            int sectionCount = BitConverter.ToUInt16(image, 0x3C);
            for (int i = 0; i < sectionCount; i++)
            {
                int header = Checked(image, sectionTable + (long)i * sectionSize, 64, path);
                if (BitConverter.ToUInt32(image, header + 4) != ShtGnuVerneed)
                {
                    continue;
                }
                long verneed = (long)BitConverter.ToUInt64(image, header + 24);
                int stringSection = (int)BitConverter.ToUInt32(image, header + 40);
                int needCount = (int)BitConverter.ToUInt32(image, header + 44);
                int stringHeader = Checked(image, sectionTable + (long)stringSection * sectionSize, 64, path);
                long strings = (long)BitConverter.ToUInt64(image, stringHeader + 24);

                long need = verneed;
                for (int n = 0; n < needCount; n++)
                {
                    int entry = Checked(image, need, 16, path);
                    int auxCount = BitConverter.ToUInt16(image, entry + 2);
                    long aux = need + BitConverter.ToUInt32(image, entry + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        int auxEntry = Checked(image, aux, 16, path);
                        long name = strings + BitConverter.ToUInt32(image, auxEntry + 8);
                        if (NameEquals(image, name, version))
                        {
                            return auxEntry + 4;
                        }
                        aux += BitConverter.ToUInt32(image, auxEntry + 12);
                    }
                    need += BitConverter.ToUInt32(image, entry + 12);
                }
            }
            return -1;
        }

        private static bool NameEquals(byte[] image, long offset, string name)
        {
            if (offset < 0 || offset + name.Length >= image.Length)
            {
                return false;
            }
            for (int i = 0; i < name.Length; i++)
            {
                if (image[offset + i] != (byte)name[i])
                {
                    return false;
                }
            }
            return image[offset + name.Length] == 0;
        }

        private static int Checked(byte[] image, long offset, int length, string path)
        {
            if (offset < 0 || offset + length > image.Length)
            {
                throw new InvalidDataException($"{path}: ELF structure at offset {offset} runs past the end of the file ({image.Length} bytes).");
            }
            return (int)offset;
        }
    }

#if !WEBSSL_ELF_TESTS
    /// <summary>MSBuild entry point: patches each existing file unless the system library already defines the version.</summary>
    public sealed class MarkElfVersionNeedWeak : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        [Microsoft.Build.Framework.Required]
        public string Version { get; set; } = "";

        /// <summary>Candidate paths of the system library that would satisfy the requirement (first existing one is checked).</summary>
        public string[] SystemLibraries { get; set; } = Array.Empty<string>();

        public override bool Execute()
        {
            foreach (string library in SystemLibraries)
            {
                if (File.Exists(library))
                {
                    if (ElfVersionNeeds.LibraryDefines(library, Version))
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{library} defines {Version}; nothing to patch.");
                        return true;
                    }
                    break;
                }
            }
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path))
                {
                    continue;
                }
                ElfPatchOutcome outcome = ElfVersionNeeds.MarkWeak(path, Version);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"{path}: {Version} requirement {outcome}.");
            }
            return true;
        }
    }
#endif
}
