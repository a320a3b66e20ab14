"""The landing and error folders a listing marker covers, and how late a file may arrive."""

from __future__ import annotations

from datetime import timedelta

from warehouse.listing_marker import Folder

LANDING = "landing/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
ERRORS = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
FOLDERS = [Folder("landing/", LANDING), Folder("errors/", ERRORS, error_output=True)]


LATE = timedelta(hours=25)
