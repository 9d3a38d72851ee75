"""Writes the spreadsheet fixtures of tests/ingest.rs from datasets/bangertdrowns2004.csv.

Run from the repository root: python3 tests/data/make_spreadsheets.py
(needs openpyxl and odfpy: pip install openpyxl odfpy). The outputs are committed.
"""
import csv

import openpyxl
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

with open("datasets/bangertdrowns2004.csv", newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]


def typed(cell):
    """Numbers as numbers, as a spreadsheet holds them; the rest as text."""
    try:
        return float(cell) if "." in cell else int(cell)
    except ValueError:
        return cell if cell != "" else None


# .xlsx: the data on the first sheet "Data", a second sheet of notes; a
# second workbook whose table starts at B3 with one bad cell (C5).
book = openpyxl.Workbook()
data = book.active
data.title = "Data"
data.append(header)
for row in body:
    data.append([typed(c) for c in row])
book.create_sheet("Notes").append(["Bangert-Drowns et al. (2004), from metadat"])
book.save("tests/data/bangertdrowns2004.xlsx")

book = openpyxl.Workbook()
sheet = book.active
sheet.title = "Data"
for r, row in enumerate([header] + body[:4]):
    for c, cell in enumerate(row):
        sheet.cell(row=3 + r, column=2 + c, value=typed(cell))
sheet["C5"] = "abc"  # the second study's yi
book.save("tests/data/bad_cell.xlsx")

# .ods: a first sheet "Read me", the data on the second sheet "Data".
doc = OpenDocumentSpreadsheet()
readme = Table(name="Read me")
tr = TableRow()
tc = TableCell(valuetype="string")
tc.addElement(P(text="The studies are on the sheet Data."))
tr.addElement(tc)
readme.addElement(tr)
doc.spreadsheet.addElement(readme)
table = Table(name="Data")
for row in [header] + body:
    tr = TableRow()
    for cell in row:
        value = typed(cell) if row is not header else cell
        if isinstance(value, (int, float)):
            tc = TableCell(valuetype="float", value=value)
            tc.addElement(P(text=str(value)))
        elif value is None:
            tc = TableCell()
        else:
            tc = TableCell(valuetype="string")
            tc.addElement(P(text=value))
        tr.addElement(tc)
    table.addElement(tr)
doc.spreadsheet.addElement(table)
doc.save("tests/data/bangertdrowns2004.ods")
