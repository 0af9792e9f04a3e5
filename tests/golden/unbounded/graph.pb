
g
dataPlaceholder*
dtype0*%
shape:ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ*
_user_specified_namedata
i
indexPlaceholder*
dtype0*%
shape:ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ*
_user_specified_nameindex
e
cdfPlaceholder*
dtype0*%
shape:ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ*
_user_specified_namecdf
b
cdf_sizePlaceholder*
dtype0*
shape:ÿÿÿÿÿÿÿÿÿ*"
_user_specified_name
cdf_size
^
offsetPlaceholder*
dtype0*
shape:ÿÿÿÿÿÿÿÿÿ* 
_user_specified_nameoffset
”
UnboundedIndexRangeEncodeUnboundedIndexRangeEncodedataindexcdfcdf_sizeoffset*
	precision*
overflow_width*
debug_level
©
UnboundedIndexRangeDecodeUnboundedIndexRangeDecodeUnboundedIndexRangeEncodeindexcdfcdf_sizeoffset*
	precision*
overflow_width*
debug_level
8
IdentityIdentityUnboundedIndexRangeDecode*
T0
:

Identity_1IdentityUnboundedIndexRangeEncode*
T0"§