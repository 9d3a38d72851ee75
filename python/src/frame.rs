//! A data frame (pandas, polars, pyarrow, …) read through the Arrow C stream
//! interface: its columns cross as Arrow buffers, no Python object per row.

use arrow_array::cast::AsArray;
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch, RecordBatchReader};
use arrow_schema::DataType;
use cochran::data::Column;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// The columns of any object with `__arrow_c_stream__`, by name.
pub fn columns(frame: &Bound<'_, PyAny>) -> PyResult<Vec<(String, Column)>> {
    let capsule = frame.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.downcast::<PyCapsule>()?;
    if capsule.name()?.map(|n| n.to_bytes()) != Some(b"arrow_array_stream".as_slice()) {
        return Err(PyValueError::new_err(
            "__arrow_c_stream__ returned a capsule that is not an Arrow array stream",
        ));
    }
    // SAFETY: a capsule named "arrow_array_stream" holds an ArrowArrayStream
    // (the Arrow PyCapsule interface); from_raw moves it out and leaves a
    // released stream behind, which the capsule's destructor skips.
    let reader =
        unsafe { ArrowArrayStreamReader::from_raw(capsule.pointer() as *mut FFI_ArrowArrayStream) }
            .map_err(arrow_error)?;
    let schema = reader.schema();
    let mut out: Vec<(String, Column)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), empty(f.data_type())))
        .collect();
    for batch in reader {
        append(&mut out, &batch.map_err(arrow_error)?)?;
    }
    Ok(out)
}

fn arrow_error(error: arrow_schema::ArrowError) -> PyErr {
    PyValueError::new_err(format!("reading the data frame: {error}"))
}

/// A column of a type's kind, to be filled: numbers for numeric types, text
/// for the rest (checked as each batch is read).
fn empty(data_type: &DataType) -> Column {
    match data_type.is_numeric() {
        true => Column::Numbers(Vec::new()),
        false => Column::Text(Vec::new()),
    }
}

fn append(out: &mut [(String, Column)], batch: &RecordBatch) -> PyResult<()> {
    for ((name, column), array) in out.iter_mut().zip(batch.columns()) {
        match column {
            Column::Numbers(values) => numbers(name, array.as_ref(), values)?,
            Column::Text(values) => texts(name, array.as_ref(), values)?,
            _ => unreachable!("columns are made numbers or text"),
        }
    }
    Ok(())
}

fn primitive<T: ArrowPrimitiveType>(
    array: &dyn Array,
    values: &mut Vec<Option<f64>>,
    as_f64: impl Fn(T::Native) -> f64,
) -> bool {
    let Some(array) = array.as_primitive_opt::<T>() else {
        return false;
    };
    values.extend(array.iter().map(|x| x.map(&as_f64)));
    true
}

fn numbers(name: &str, array: &dyn Array, values: &mut Vec<Option<f64>>) -> PyResult<()> {
    let read = primitive::<Float64Type>(array, values, |x| x)
        || primitive::<Float32Type>(array, values, f64::from)
        || primitive::<Float16Type>(array, values, f64::from)
        || primitive::<Int64Type>(array, values, |x| x as f64)
        || primitive::<Int32Type>(array, values, f64::from)
        || primitive::<Int16Type>(array, values, f64::from)
        || primitive::<Int8Type>(array, values, f64::from)
        || primitive::<UInt64Type>(array, values, |x| x as f64)
        || primitive::<UInt32Type>(array, values, f64::from)
        || primitive::<UInt16Type>(array, values, f64::from)
        || primitive::<UInt8Type>(array, values, f64::from);
    match read {
        true => Ok(()),
        false => Err(unsupported(name, array.data_type())),
    }
}

fn texts(name: &str, array: &dyn Array, values: &mut Vec<Option<String>>) -> PyResult<()> {
    let owned = |s: Option<&str>| s.map(str::to_string);
    if let Some(a) = array.as_string_opt::<i32>() {
        values.extend(a.iter().map(owned));
    } else if let Some(a) = array.as_string_opt::<i64>() {
        values.extend(a.iter().map(owned));
    } else if let Some(a) = array.as_string_view_opt() {
        values.extend(a.iter().map(owned));
    } else if let Some(a) = array.as_boolean_opt() {
        values.extend(a.iter().map(|b| b.map(|b| b.to_string())));
    } else if array.data_type() == &DataType::Null {
        values.extend(std::iter::repeat_n(None, array.len()));
    } else if let Some(a) = array.as_any_dictionary_opt() {
        // A categorical column: its categories as text, then one per row.
        let mut categories = Vec::new();
        match empty(a.values().data_type()) {
            Column::Numbers(_) => {
                let mut numbers_of = Vec::new();
                numbers(name, a.values().as_ref(), &mut numbers_of)?;
                categories.extend(numbers_of.into_iter().map(|x| x.map(|x| x.to_string())));
            }
            _ => texts(name, a.values().as_ref(), &mut categories)?,
        }
        let keys = a.normalized_keys();
        values.extend((0..a.len()).map(|i| match a.is_null(i) {
            true => None,
            false => categories.get(keys[i]).cloned().flatten(),
        }));
    } else {
        return Err(unsupported(name, array.data_type()));
    }
    Ok(())
}

fn unsupported(name: &str, data_type: &DataType) -> PyErr {
    crate::CochranError::new_err(format!(
        "the column `{name}` holds {data_type} values, and cochran reads numbers and text; \
         convert the column to one of them, or leave it out"
    ))
}
