<?php
// Oracle helper for scripts/version-oracle.py (Packagist): reads "a<TAB>b" lines on stdin and
// prints, per line, the order of a and b (-1, 0 or 1) as Composer's own semver library sees
// it: both are normalized with VersionParser::normalize and the normalized versions compared
// with Comparator (0 when Comparator::equalTo). "x" when normalize rejects either version or
// normalizes it to a branch ("dev-..."). Uses Debian's php-composer-semver.
require '/usr/share/php/Composer/Semver/autoload.php';

use Composer\Semver\Comparator;
use Composer\Semver\VersionParser;

$parser = new VersionParser();
$normalize = function (string $v) use ($parser): ?string {
    try {
        $n = $parser->normalize($v);
    } catch (\UnexpectedValueException $e) {
        return null;
    }
    return strncmp($n, 'dev-', 4) === 0 ? null : $n;
};
while (($line = fgets(STDIN)) !== false) {
    $parts = explode("\t", rtrim($line, "\n"), 2);
    $na = $normalize($parts[0]);
    $nb = $normalize($parts[1] ?? '');
    if ($na === null || $nb === null) {
        echo "x\n";
    } elseif (Comparator::equalTo($na, $nb)) {
        echo "0\n";
    } elseif (Comparator::lessThan($na, $nb)) {
        echo "-1\n";
    } elseif (Comparator::greaterThan($na, $nb)) {
        echo "1\n";
    } else {
        echo "?\n"; // neither <, == nor >: reported as an error by the caller
    }
}
