//! Independent work spread over the cores with rayon (the `parallel`
//! feature), or done in order without it (WebAssembly, a Python extension that
//! owns its threads). Results come back in index order either way, so they
//! never depend on the number of threads.

use std::ops::Range;

/// `work(i)` for every `i` in `indices`, in index order.
#[cfg(feature = "parallel")]
pub(crate) fn map<R: Send>(
    indices: Range<usize>,
    work: impl Fn(usize) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    if indices.len() <= 1 {
        // Handing one task to the pool and waiting costs more than doing it.
        return indices.map(work).collect();
    }
    indices.into_par_iter().map(work).collect()
}

/// `work(i)` for every `i` in `indices`, in index order.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map<R: Send>(
    indices: Range<usize>,
    work: impl Fn(usize) -> R + Sync + Send,
) -> Vec<R> {
    indices.map(work).collect()
}

/// [`map`] with scratch space that each thread makes once with `init` and
/// reuses for every index it takes.
#[cfg(feature = "parallel")]
pub(crate) fn map_with<S, R: Send>(
    indices: Range<usize>,
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, usize) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    indices.into_par_iter().map_init(init, work).collect()
}

/// [`map`] with scratch space made once and reused for every index.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map_with<S, R: Send>(
    indices: Range<usize>,
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, usize) -> R + Sync + Send,
) -> Vec<R> {
    let mut scratch = init();
    indices.map(|i| work(&mut scratch, i)).collect()
}

/// `work(i, &mut items[i])` for every item, results in index order.
#[cfg(feature = "parallel")]
pub(crate) fn map_mut<T: Send, R: Send>(
    items: &mut [T],
    work: impl Fn(usize, &mut T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    if items.len() <= 1 {
        return items
            .iter_mut()
            .enumerate()
            .map(|(i, item)| work(i, item))
            .collect();
    }
    items
        .par_iter_mut()
        .enumerate()
        .map(|(i, item)| work(i, item))
        .collect()
}

/// `work(i, &mut items[i])` for every item, results in index order.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map_mut<T: Send, R: Send>(
    items: &mut [T],
    work: impl Fn(usize, &mut T) -> R + Sync + Send,
) -> Vec<R> {
    items
        .iter_mut()
        .enumerate()
        .map(|(i, item)| work(i, item))
        .collect()
}

/// [`map_mut`] with scratch space that each thread makes once with `init`.
#[cfg(feature = "parallel")]
pub(crate) fn map_mut_with<T: Send, S, R: Send>(
    items: &mut [T],
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, usize, &mut T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    items
        .par_iter_mut()
        .enumerate()
        .map_init(init, |scratch, (i, item)| work(scratch, i, item))
        .collect()
}

/// [`map_mut`] with scratch space made once and reused for every item.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map_mut_with<T: Send, S, R: Send>(
    items: &mut [T],
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, usize, &mut T) -> R + Sync + Send,
) -> Vec<R> {
    let mut scratch = init();
    items
        .iter_mut()
        .enumerate()
        .map(|(i, item)| work(&mut scratch, i, item))
        .collect()
}

/// `work(first index, chunk)` on consecutive chunks of `items`, in order.
pub(crate) fn chunks<T: Sync, R: Send>(
    items: &[T],
    size: usize,
    work: impl Fn(usize, &[T]) -> R + Sync + Send,
) -> Vec<R> {
    map(0..items.len().div_ceil(size), |c| {
        let start = c * size;
        work(start, &items[start..(start + size).min(items.len())])
    })
}
