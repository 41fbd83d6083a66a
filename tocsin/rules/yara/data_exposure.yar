/*
 * tocsin built-in content rules: personal data in bulk, database dumps and archives.
 */

rule tocsin_bulk_email_addresses
{
    meta:
        title = "Bulk E-mail Addresses In A Payload"
        description = "Many e-mail addresses in one payload (a contact or user list)"
        severity = "medium"
    strings:
        $email = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,10}/
    condition:
        #email >= 50
}

rule tocsin_bulk_card_numbers
{
    meta:
        title = "Bulk Payment Card Numbers In A Payload"
        description = "Many payment card numbers passing the Luhn check in one payload"
        severity = "high"
        luhn_min = 20
    strings:
        $visa = /\b4[0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}\b/
        $mc = /\b5[1-5][0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}\b/
        $amex = /\b3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5}\b/
        $discover = /\b6011[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}\b/
    condition:
        #visa + #mc + #amex + #discover >= 20
}

rule tocsin_bulk_us_ssn
{
    meta:
        title = "Bulk US Social Security Numbers In A Payload"
        description = "Many US social security numbers in one payload"
        severity = "high"
    strings:
        $ssn = /\b[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}\b/
    condition:
        #ssn >= 20
}

rule tocsin_bulk_iban
{
    meta:
        title = "Bulk IBANs In A Payload"
        description = "Many IBANs in one payload"
        severity = "high"
    strings:
        $iban = /\b[A-Z]{2}[0-9]{2}[ ]?[0-9A-Z]{4}[ ]?[0-9]{4}[ ]?[0-9]{4}[ ]?[0-9A-Z ]{4,20}\b/
    condition:
        #iban >= 20
}

rule tocsin_sql_dump
{
    meta:
        title = "SQL Database Dump"
        description = "A SQL database dump (mysqldump, pg_dump)"
        severity = "high"
    strings:
        $mysql = "-- MySQL dump" ascii
        $maria = "-- MariaDB dump" ascii
        $pg = "-- PostgreSQL database dump" ascii
        $insert = /INSERT INTO [`"]?\w+[`"]? (\([^)]*\) )?VALUES/
        $create = /CREATE TABLE [`"]?\w+/
    condition:
        any of ($mysql, $maria, $pg) or (#insert >= 20 and $create)
}

rule tocsin_archive_or_database_file
{
    meta:
        title = "Archive Or Database File In Transit"
        description = "An archive or database file in transit (zip, 7z, rar, SQLite, KeePass)"
        severity = "low"
    strings:
        $zip = { 50 4B 03 04 }
        $sevenzip = { 37 7A BC AF 27 1C }
        $rar = { 52 61 72 21 1A 07 }
        $sqlite = "SQLite format 3\x00"
        $keepass = { 03 D9 A2 9A 67 FB 4B B5 }
    condition:
        $sevenzip at 0 or $rar at 0 or $sqlite at 0 or $keepass at 0 or $zip at 0
}
