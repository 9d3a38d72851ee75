//! The compound-file container of .xls workbooks, checked before the reader
//! follows it: its sector tables (FAT and mini FAT) are chains of sector
//! numbers, and a chain that loops or points past its table would make the
//! reader grow memory without end or stop with a panic. Every chain is
//! followed once here, in time linear in the file's size.

use crate::error::{ErrorKind, Result};

const SIGNATURE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// Sector numbers from here up are markers (end of chain, free, FAT, DIFAT).
const MAX_REGULAR: u32 = 0xFFFF_FFFA;
#[cfg(test)]
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
const HEADER: usize = 512;

/// True when the bytes start like a compound file (.xls).
pub(super) fn is_cfb(bytes: &[u8]) -> bool {
    bytes.starts_with(&SIGNATURE)
}

/// Refuses a compound file whose sector tables loop or point outside them.
pub(super) fn check(bytes: &[u8]) -> Result<()> {
    if bytes.len() < HEADER {
        return Err(damaged("it ends inside its header"));
    }
    let sector_size = match u16_at(bytes, 30) {
        9 => 512,
        12 => 4096,
        other => {
            return Err(damaged(&format!(
                "its sector size 2^{other} is not 512 or 4096"
            )));
        }
    };
    let sectors = Sectors { bytes, sector_size };
    let fat = sectors.fat()?;
    check_table(&fat, "sector table")?;
    let start_in = |at: usize| u32_at(bytes, at);
    for (what, start) in [
        ("directory", start_in(48)),
        ("mini sector table", start_in(60)),
    ] {
        check_start(start, fat.len(), what)?;
    }
    let mini_start = start_in(60);
    if mini_start < MAX_REGULAR {
        let mini = sectors.chain(&fat, mini_start)?;
        let mini_fat: Vec<u32> = mini.chunks_exact(4).map(u32_le).collect();
        check_table(&mini_fat, "mini sector table")?;
    }
    Ok(())
}

struct Sectors<'a> {
    bytes: &'a [u8],
    sector_size: usize,
}

impl Sectors<'_> {
    /// Sector `id`, or an error when it lies past the end of the file.
    fn get(&self, id: u32) -> Result<&[u8]> {
        let start = (id as usize + 1)
            .checked_mul(self.sector_size)
            .filter(|s| s + self.sector_size <= self.bytes.len())
            .ok_or_else(|| damaged(&format!("sector {id} lies past the end of the file")))?;
        Ok(&self.bytes[start..start + self.sector_size])
    }

    fn count(&self) -> usize {
        self.bytes.len() / self.sector_size
    }

    /// The FAT: the sectors the DIFAT (in the header, then in a chain of
    /// DIFAT sectors) lists, read as sector numbers.
    fn fat(&self) -> Result<Vec<u32>> {
        let mut fat_sectors: Vec<u32> =
            self.bytes[76..HEADER].chunks_exact(4).map(u32_le).collect();
        let mut next = u32_at(self.bytes, 68);
        let mut visited = 0usize;
        while next < MAX_REGULAR {
            visited += 1;
            if visited > self.count() {
                return Err(damaged("its list of sector-table sectors loops"));
            }
            let sector = self.get(next)?;
            let entries: Vec<u32> = sector.chunks_exact(4).map(u32_le).collect();
            let (last, listed) = entries.split_last().expect("a sector holds entries");
            fat_sectors.extend_from_slice(listed);
            next = *last;
        }
        let mut fat = Vec::new();
        for id in fat_sectors.into_iter().filter(|id| *id < MAX_REGULAR) {
            if fat.len() > self.count() * (self.sector_size / 4) {
                return Err(damaged("it lists more sector-table sectors than it has"));
            }
            fat.extend(self.get(id)?.chunks_exact(4).map(u32_le));
        }
        Ok(fat)
    }

    /// The bytes of the chain that starts at `start` (checked acyclic).
    fn chain(&self, fat: &[u32], start: u32) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut id = start;
        while id < MAX_REGULAR {
            out.extend_from_slice(self.get(id)?);
            id = fat[id as usize];
        }
        Ok(out)
    }
}

/// Every entry is a marker or the number of another entry, and following
/// them from any entry ends: no chain loops.
fn check_table(table: &[u32], what: &str) -> Result<()> {
    if let Some((i, next)) = table
        .iter()
        .enumerate()
        .find(|(_, n)| **n < MAX_REGULAR && **n as usize >= table.len())
    {
        return Err(damaged(&format!(
            "its {what} points from entry {i} to entry {next}, past its end ({} entries)",
            table.len()
        )));
    }
    // 0: not seen, 1: on the chain being followed, 2: known to end.
    let mut state = vec![0u8; table.len()];
    for first in 0..table.len() {
        let mut id = first;
        while state[id] == 0 {
            state[id] = 1;
            match table[id] {
                n if n < MAX_REGULAR => id = n as usize,
                _ => break,
            }
        }
        if state[id] == 1 && table[id] < MAX_REGULAR {
            return Err(damaged(&format!("its {what} loops (at entry {id})")));
        }
        let mut id = first;
        while state[id] == 1 {
            state[id] = 2;
            match table[id] {
                n if n < MAX_REGULAR => id = n as usize,
                _ => break,
            }
        }
    }
    Ok(())
}

fn check_start(start: u32, len: usize, what: &str) -> Result<()> {
    match start < MAX_REGULAR && start as usize >= len {
        true => Err(damaged(&format!(
            "its {what} starts at sector {start}, past its sector table"
        ))),
        false => Ok(()),
    }
}

fn damaged(why: &str) -> crate::Error {
    ErrorKind::Unreadable(format!("the .xls file is damaged: {why}")).into()
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32_le(&bytes[at..at + 4])
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_and_far_pointers_are_found() {
        assert!(check_table(&[1, 2, END_OF_CHAIN], "t").is_ok());
        assert!(check_table(&[1, 2, 0], "t").is_err());
        assert!(check_table(&[1, 1], "t").is_err());
        assert!(check_table(&[5], "t").is_err());
        assert!(check_table(&[2, 2, END_OF_CHAIN, 0], "t").is_ok());
    }
}
