# Oracle helper for scripts/version-oracle.py (RubyGems): reads "a<TAB>b" lines on stdin and
# prints, per line, Gem::Version.new(a) <=> Gem::Version.new(b) (-1, 0 or 1) or "x" when
# Gem::Version.correct? rejects either version.
require 'rubygems'
STDOUT.sync = false
STDIN.each_line do |line|
  a, b = line.chomp("\n").split("\t", 2)
  if Gem::Version.correct?(a) && Gem::Version.correct?(b)
    puts(Gem::Version.new(a) <=> Gem::Version.new(b))
  else
    puts 'x'
  end
end
